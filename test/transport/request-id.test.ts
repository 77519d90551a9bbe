/**
 * X-Request-Id: a client's acceptable value (1–128 of A-Za-z0-9._:-) is kept, anything else is
 * replaced by a random one (not a per-process counter); it comes back on every response,
 * refusals included, and is on every log line written for the request.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { startTestApp, uniqueLogin, type TestApp } from '../support/app.js'
import { requestIdFrom } from '../../src/rpc/request-id.js'

let t: TestApp

before(async () => {
  t = await startTestApp({ LOG_LEVEL: 'debug' })
})
after(() => t.close())

async function idOf(url: string, headers: Record<string, string> = {}, method: 'POST' | 'GET' = 'POST') {
  const reply = await t.app.inject({
    method,
    url,
    headers: { 'content-type': 'application/json', ...headers },
    payload: method === 'POST' ? '{}' : undefined,
  })
  const id = reply.headers['x-request-id']
  assert.equal(typeof id, 'string', `${method} ${url} has no X-Request-Id`)
  return { id: id as string, status: reply.statusCode }
}

test('an acceptable client id is kept, on success and on every kind of refusal', async () => {
  for (const [url, method] of [
    ['/api/GetTokenApiList', 'POST'],
    ['/api/GetSession', 'POST'],
    ['/api/NoSuchMethod', 'POST'],
    ['/rpc', 'POST'],
    ['/rpc', 'GET'],
    ['/nowhere', 'GET'],
    ['/healthz', 'GET'],
  ] as const) {
    const clientId = `client.id:${method}-${url.length}_x`
    const { id } = await idOf(url, { 'x-request-id': clientId }, method)
    assert.equal(id, clientId, `${method} ${url}`)
  }
  const longest = 'a'.repeat(128)
  assert.equal((await idOf('/healthz', { 'x-request-id': longest }, 'GET')).id, longest)
})

test('an unacceptable client id is replaced by a fresh random one', async () => {
  for (const bad of ['', 'a'.repeat(129), 'has space', 'semi;colon', 'lks_<script>', 'ünïcode']) {
    const { id } = await idOf('/api/GetSession', { 'x-request-id': bad })
    assert.notEqual(id, bad)
    assert.match(id, /^[0-9a-f-]{36}$/)
  }
})

test('generated ids are random, not a counter', async () => {
  const ids = new Set<string>()
  for (let i = 0; i < 20; i++) ids.add((await idOf('/api/GetSession')).id)
  assert.equal(ids.size, 20)
  for (const id of ids) {
    assert.doesNotMatch(id, /^req-/)
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  }
  assert.equal(requestIdFrom(['two', 'values']).length, 36)
})

test('every log line written for a request carries its id', async () => {
  const requestId = 'trace-me-42'
  const login = uniqueLogin('reqid')
  // A failed sign-in logs (info) from the pipeline; an unknown credential logs at debug.
  await t.app.inject({
    method: 'POST',
    url: '/api/SignIn',
    headers: { 'content-type': 'application/json', 'x-request-id': requestId },
    payload: JSON.stringify({ login, password: 'Wr0ng-password-1' }),
  })
  await t.app.inject({
    method: 'POST',
    url: '/rpc',
    headers: { 'content-type': 'application/json', 'x-request-id': requestId, authorization: 'Bearer lks_x' },
    payload: JSON.stringify([
      { jsonrpc: '2.0', id: 1, method: 'GetSession' },
      { jsonrpc: '2.0', id: 2, method: 'SignIn', params: { login, password: 'Wr0ng-password-2' } },
    ]),
  })
  const lines = t.logLines.map((line) => JSON.parse(line) as Record<string, unknown>)
  const mine = lines.filter((line) => line['requestId'] === requestId)
  assert.ok(mine.length >= 3, `expected the request's lines, found ${mine.length}`)
  // No line about these calls lacks the id: every 'call refused' line has one.
  const refusals = lines.filter((line) => line['msg'] === 'call refused')
  assert.ok(refusals.length >= 3)
  for (const line of refusals) assert.equal(typeof line['requestId'], 'string', JSON.stringify(line))
})
