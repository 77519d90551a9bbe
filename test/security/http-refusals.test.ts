/**
 * The HTTP layer's own refusals, seen on a real listening socket: each has its status,
 * `Cache-Control: no-store`, an `X-Request-Id`, the error body of its transport, and nothing of
 * the path or of a header value (a credential pasted into either must not come back).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { reasons } from '../../src/errors.js'
import { startTestApp, type TestApp } from '../support/app.js'
import { listenOnLoopback, rawExchange, rawRequest, type RawAnswer } from '../support/raw-http.js'
import { sleep } from '../support/calls.js'

const secret = `lks_${'S3cr3tS3ss10n'.repeat(3)}`
const idPattern = /^[A-Za-z0-9._:-]{1,128}$/

let t: TestApp
let port: number

before(async () => {
  t = await startTestApp()
  port = await listenOnLoopback(t.app)
})
after(() => t.close())

interface Expected {
  status: number
  transport: 'rpc' | 'api'
  reason: string
}

/** Status, headers and body shape of a refusal; the secret appears nowhere in the answer. */
function assertRefusal(answer: RawAnswer, expected: Expected): void {
  assert.equal(answer.status, expected.status, answer.raw.slice(0, 300))
  assert.equal(answer.headers['cache-control'], 'no-store')
  assert.match(answer.headers['x-request-id'] ?? '', idPattern)
  assert.match(answer.headers['content-type'] ?? '', /^application\/json/)
  const body = JSON.parse(answer.body) as Record<string, unknown>
  const error = (
    expected.transport === 'rpc' ? body['error'] : (body['error'] as Record<string, unknown> | undefined)
  ) as { code: number; message: string; data: { reason: string } }
  if (expected.transport === 'rpc') {
    assert.equal(body['jsonrpc'], '2.0')
    assert.equal(body['id'], null)
  } else {
    assert.deepEqual(Object.keys(body), ['error'])
  }
  assert.equal(error.data.reason, expected.reason)
  assert.equal(error.code, reasons[expected.reason as keyof typeof reasons].rpcCode)
  assert.equal(typeof error.message, 'string')
  assert.ok(!answer.raw.includes(secret), 'the credential came back')
  assert.ok(!answer.raw.includes('S3cr3t'), 'part of the credential came back')
}

describe('refused by Node before routing (clientErrorHandler)', () => {
  test('a URL longer than the header limit: 414, no echo', async () => {
    const answer = await rawRequest(port, `POST /api/${secret}${'x'.repeat(20_000)} HTTP/1.1\r\nHost: a\r\n\r\n`)
    assertRefusal(answer, { status: 414, transport: 'api', reason: 'INVALID_REQUEST' })
    assert.ok(answer.closed)
  })

  test('headers over the limit: 431 with the JSON-RPC body on /rpc, no echo of the header', async () => {
    const answer = await rawRequest(
      port,
      `POST /rpc HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer ${secret}\r\nX-Filler: ${'y'.repeat(20_000)}\r\n\r\n`,
    )
    assertRefusal(answer, { status: 431, transport: 'rpc', reason: 'INVALID_REQUEST' })
    assert.ok(!answer.raw.includes('yyyy'))
  })

  test('Transfer-Encoding with Content-Length: 400', async () => {
    const answer = await rawRequest(
      port,
      'POST /api/SignIn HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    )
    assertRefusal(answer, { status: 400, transport: 'api', reason: 'INVALID_REQUEST' })
    assert.ok(answer.closed)
  })

  test('Transfer-Encoding with Content-Length on /rpc: 400 with the JSON-RPC body', async () => {
    const answer = await rawRequest(
      port,
      'POST /rpc HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    )
    assertRefusal(answer, { status: 400, transport: 'rpc', reason: 'INVALID_REQUEST' })
  })

  test('a malformed request line: 400', async () => {
    const answer = await rawRequest(port, `NOT AN HTTP REQUEST ${secret}\r\n\r\n`)
    assertRefusal(answer, { status: 400, transport: 'api', reason: 'INVALID_REQUEST' })
  })

  test('a malformed header line: 400, no echo', async () => {
    const answer = await rawRequest(port, `POST /rpc HTTP/1.1\r\nHost: a\r\nBroken header ${secret}\r\n\r\n`)
    assertRefusal(answer, { status: 400, transport: 'rpc', reason: 'INVALID_REQUEST' })
  })

  test("a client's valid X-Request-Id is kept even on a refusal", async () => {
    const answer = await rawRequest(
      port,
      'POST /rpc HTTP/1.1\r\nHost: a\r\nX-Request-Id: refused-1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n',
    )
    assert.equal(answer.status, 400)
    assert.equal(answer.headers['x-request-id'], 'refused-1')
  })
})

describe('refused by routing', () => {
  test('/api/lks_…: 404 METHOD_NOT_FOUND without the credential in body or headers', async () => {
    const answer = await rawRequest(
      port,
      `POST /api/${secret} HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
    )
    assertRefusal(answer, { status: 404, transport: 'api', reason: 'METHOD_NOT_FOUND' })
  })

  test('a method name over 100 characters: 414, no echo', async () => {
    const answer = await rawRequest(
      port,
      `POST /api/${secret}${'z'.repeat(200)} HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
    )
    assertRefusal(answer, { status: 414, transport: 'api', reason: 'INVALID_REQUEST' })
  })

  test('a bad percent-encoding: 400, no echo', async () => {
    const answer = await rawRequest(
      port,
      `POST /api/%zz${secret} HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
    )
    assertRefusal(answer, { status: 400, transport: 'api', reason: 'INVALID_REQUEST' })
  })

  test('an unknown path: 404, no echo', async () => {
    const answer = await rawRequest(port, `GET /${secret}?q=${secret} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`)
    assertRefusal(answer, { status: 404, transport: 'api', reason: 'METHOD_NOT_FOUND' })
  })

  for (const [method, url, transport] of [
    ['GET', '/rpc', 'rpc'],
    ['PUT', '/rpc', 'rpc'],
    ['GET', '/api/SignIn', 'api'],
    ['DELETE', `/api/${secret}`, 'api'],
  ] as const) {
    test(`${method} ${url.slice(0, 12)}: 405 with Allow: POST`, async () => {
      const answer = await rawRequest(port, `${method} ${url} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`)
      assertRefusal(answer, { status: 405, transport, reason: 'INVALID_REQUEST' })
      assert.equal(answer.headers['allow'], 'POST')
    })
  }

  test('POST /healthz: 405 with Allow: GET, HEAD', async () => {
    const answer = await rawRequest(port, 'POST /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')
    assertRefusal(answer, { status: 405, transport: 'api', reason: 'INVALID_REQUEST' })
    assert.equal(answer.headers['allow'], 'GET, HEAD')
  })

  for (const url of ['/rpc', '/api/SignIn']) {
    test(`a body over the limit on ${url}: 413 in contract shape`, async () => {
      const body = JSON.stringify({ password: secret, pad: 'p'.repeat(70_000) })
      const answer = await rawRequest(
        port,
        `POST ${url} HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      )
      assertRefusal(answer, {
        status: 413,
        transport: url === '/rpc' ? 'rpc' : 'api',
        reason: 'INVALID_REQUEST',
      })
    })
  }
})

test('a request that arrives while the server drains: 503 UNAVAILABLE in contract shape', async () => {
  const draining = await startTestApp({}, { share: t })
  const drainingPort = await listenOnLoopback(draining.app)
  let closed: Promise<unknown> = Promise.resolve()
  try {
    // A first request holds the connection open (its body not yet sent) while close() begins;
    // the second, pipelined behind it, arrives during the drain.
    const answer = await rawExchange(drainingPort, async (socket) => {
      socket.write('POST /api/GetSession HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n')
      await sleep(100)
      closed = draining.app.close()
      await sleep(100)
      socket.write('{}POST /rpc HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}')
    })
    const second = answer.raw.slice(answer.raw.indexOf('HTTP/1.1', 10))
    assert.match(second, /^HTTP\/1\.1 503 /)
    assert.match(second, /cache-control: no-store/i)
    const body = JSON.parse(second.slice(second.indexOf('\r\n\r\n') + 4)) as {
      id?: unknown
      error: { code: number; data: { reason: string } }
    }
    assert.equal(body.error.data.reason, 'UNAVAILABLE')
    assert.equal(body.id, null)
  } finally {
    await closed
    await draining.close().catch(() => undefined)
  }
})
