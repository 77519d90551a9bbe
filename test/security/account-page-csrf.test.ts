// The account page holds its session in script, not in a cookie: a browser never sends it by
// itself, and /rpc grants no cross-origin preflight, so another site cannot forge a call with it.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startTestApp, type TestApp } from '../support/app.js'

let t: TestApp
before(async () => {
  t = await startTestApp()
})
after(() => t.close())

test('a cross-origin preflight for Authorization on /rpc is not granted', async () => {
  const reply = await t.app.inject({
    method: 'OPTIONS',
    url: '/rpc',
    headers: {
      origin: 'https://attacker.example',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type',
    },
  })
  assert.equal(reply.headers['access-control-allow-origin'], undefined)
  assert.equal(reply.headers['access-control-allow-headers'], undefined)
  assert.equal(reply.headers['access-control-allow-credentials'], undefined)
})

test('a session in a cookie, as a forged cross-site request would carry one, is no credential', async () => {
  const { session } = await t.signUpAndIn()
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'GetSessions' })
  for (const cookie of [`session=${session}`, `latchkey.session=${session}`, `Authorization=Bearer ${session}`]) {
    const reply = await t.app.inject({
      method: 'POST',
      url: '/rpc',
      // A form post from another site: text/plain, the victim's cookies, a foreign Origin.
      headers: { 'content-type': 'text/plain', origin: 'https://attacker.example', cookie },
      payload: body,
    })
    assert.equal(JSON.parse(reply.body).error?.data?.reason, 'UNAUTHENTICATED', cookie)
    assert.equal(reply.headers['set-cookie'], undefined)
  }
  const page = await t.app.inject({ method: 'GET', url: '/account' })
  assert.equal(page.headers['set-cookie'], undefined, 'the page sets no cookie')
})
