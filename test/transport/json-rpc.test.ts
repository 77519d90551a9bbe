// JSON-RPC 2.0 conformance, after the examples of the specification (section 7), with our method names.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startTestApp, type TestApp } from '../support/app.js'

let t: TestApp
let session: string

before(async () => {
  t = await startTestApp()
  const { login, password } = await t.signUp()
  session = await t.signIn(login, password)
})
after(() => t.close())

async function post(payload: string, bearer?: string) {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (bearer !== undefined) headers['authorization'] = `Bearer ${bearer}`
  const response = await t.app.inject({ method: 'POST', url: '/rpc', headers, payload })
  return {
    status: response.statusCode,
    text: response.body,
    json: response.body === '' ? undefined : (JSON.parse(response.body) as unknown),
    headers: response.headers,
  }
}

type Reply = {
  jsonrpc: string
  id: unknown
  result?: Record<string, unknown>
  error?: { code: number; message: string; data?: { reason: string } }
}
const asReply = (value: unknown) => value as Reply
const asReplies = (value: unknown) => value as Reply[]

describe('single calls', () => {
  test('a call with named params gets its result and its id back', async () => {
    const r = await post(JSON.stringify({ jsonrpc: '2.0', method: 'GetSession', params: {}, id: 1 }), session)
    assert.equal(r.status, 200)
    const reply = asReply(r.json)
    assert.equal(reply.jsonrpc, '2.0')
    assert.equal(reply.id, 1)
    assert.equal(reply.result?.['authType'], 'session')
    assert.equal(reply.error, undefined)
  })

  test('the id is echoed with its exact type and value', async () => {
    for (const id of ['abc', '1', 0, -7, 1.5, 12345678901234, null]) {
      const r = await post(JSON.stringify({ jsonrpc: '2.0', method: 'GetSession', id }), session)
      assert.equal(r.status, 200)
      assert.deepEqual(asReply(r.json).id, id, `id ${JSON.stringify(id)}`)
    }
  })

  test('a method that does not exist is -32601', async () => {
    const r = await post('{"jsonrpc": "2.0", "method": "foobar", "id": "1"}')
    assert.equal(r.status, 200)
    assert.equal(asReply(r.json).error?.code, -32601)
    assert.equal(asReply(r.json).error?.data?.reason, 'METHOD_NOT_FOUND')
    assert.equal(asReply(r.json).id, '1')
  })

  test('every rpc.* name is -32601', async () => {
    for (const method of ['rpc.discover', 'rpc.GetSession', 'rpc.']) {
      const r = await post(JSON.stringify({ jsonrpc: '2.0', method, id: 2 }))
      assert.equal(asReply(r.json).error?.code, -32601, method)
    }
  })

  test('invalid JSON is -32700 with id null', async () => {
    const r = await post('{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]')
    assert.equal(r.status, 200)
    assert.deepEqual(asReply(r.json), {
      jsonrpc: '2.0',
      id: null,
      error: { code: -32700, message: asReply(r.json).error?.message, data: { reason: 'PARSE_ERROR' } },
    })
  })

  test('an empty body is a parse error', async () => {
    const r = await post('')
    assert.equal(asReply(r.json).error?.code, -32700)
  })

  test('an invalid request object is -32600 with id null', async () => {
    const r = await post('{"jsonrpc": "2.0", "method": 1, "params": "bar"}')
    assert.equal(r.status, 200)
    assert.equal(asReply(r.json).error?.code, -32600)
    assert.equal(asReply(r.json).id, null)
  })

  test('a wrong or missing jsonrpc member is -32600', async () => {
    for (const body of ['{"jsonrpc": "1.0", "method": "GetSession", "id": 3}', '{"method": "GetSession", "id": 3}']) {
      const r = await post(body)
      assert.equal(asReply(r.json).error?.code, -32600, body)
    }
  })

  test('an id of the wrong type is -32600 with id null', async () => {
    const r = await post('{"jsonrpc": "2.0", "method": "GetSession", "id": {"a": 1}}')
    assert.equal(asReply(r.json).error?.code, -32600)
    assert.equal(asReply(r.json).id, null)
  })

  test('positional (array) params are -32602', async () => {
    const r = await post('{"jsonrpc": "2.0", "method": "SignIn", "params": ["alice", "secret"], "id": 4}')
    assert.equal(asReply(r.json).error?.code, -32602)
    assert.equal(asReply(r.json).error?.data?.reason, 'INVALID_PARAMS')
    assert.equal(asReply(r.json).id, 4)
  })

  test('params that are not structured values are -32600', async () => {
    const r = await post('{"jsonrpc": "2.0", "method": "SignIn", "params": "x", "id": 5}')
    assert.equal(asReply(r.json).error?.code, -32600)
  })

  test('"params": null is -32600 (not a structured value), keeping the id', async () => {
    for (const method of ['GetSession', 'GetTokenApiList', 'SignIn']) {
      const r = await post(JSON.stringify({ jsonrpc: '2.0', method, params: null, id: 'n1' }), session)
      assert.equal(r.status, 200)
      assert.equal(asReply(r.json).error?.code, -32600, method)
      assert.equal(asReply(r.json).id, 'n1')
    }
  })

  test('an unknown member name that could be a credential is not repeated in data.errors', async () => {
    const pasted = `lks_${'Q'.repeat(32)}`
    const r = await post(
      JSON.stringify({ jsonrpc: '2.0', method: 'SignIn', params: { login: 'a', password: 'b', [pasted]: 1 }, id: 9 }),
    )
    assert.equal(asReply(r.json).error?.code, -32602)
    assert.ok(!r.text.includes('QQQQ'), r.text)
    assert.match(r.text, /\(unknown\)/)
  })

  test('unknown params are -32602 naming the field', async () => {
    const r = await post(
      JSON.stringify({ jsonrpc: '2.0', method: 'SignIn', params: { login: 'alice', password: 'x', extra: 1 }, id: 6 }),
    )
    const error = asReply(r.json).error as unknown as { code: number; data: { errors: Array<{ field: string }> } }
    assert.equal(error.code, -32602)
    assert.ok(error.data.errors.some((e) => e.field.includes('extra')))
  })

  test('a notification gets no reply: HTTP 204, empty body', async () => {
    const r = await post(JSON.stringify({ jsonrpc: '2.0', method: 'GetSession', params: {} }), session)
    assert.equal(r.status, 204)
    assert.equal(r.text, '')
  })

  test('a notification of an unknown method also gets no reply', async () => {
    const r = await post('{"jsonrpc": "2.0", "method": "foobar"}')
    assert.equal(r.status, 204)
  })

  test('a notification runs its method (SignOut ends the session)', async () => {
    const { login, password } = await t.signUp()
    const other = await t.signIn(login, password)
    const r = await post(JSON.stringify({ jsonrpc: '2.0', method: 'SignOut' }), other)
    assert.equal(r.status, 204)
    const check = await post(JSON.stringify({ jsonrpc: '2.0', method: 'GetSession', id: 1 }), other)
    assert.equal(asReply(check.json).error?.data?.reason, 'UNAUTHENTICATED')
  })
})

describe('batches', () => {
  test('[] is a single -32600 object', async () => {
    const r = await post('[]')
    assert.equal(r.status, 200)
    const reply = asReply(r.json)
    assert.ok(!Array.isArray(r.json))
    assert.equal(reply.error?.code, -32600)
    assert.equal(reply.id, null)
  })

  test('[1] is an array of one -32600 object', async () => {
    const r = await post('[1]')
    const replies = asReplies(r.json)
    assert.ok(Array.isArray(replies))
    assert.equal(replies.length, 1)
    assert.equal(replies[0]?.error?.code, -32600)
    assert.equal(replies[0]?.id, null)
  })

  test('[1,2,3] is an array of three -32600 objects', async () => {
    const r = await post('[1,2,3]')
    const replies = asReplies(r.json)
    assert.equal(replies.length, 3)
    for (const reply of replies) assert.equal(reply.error?.code, -32600)
  })

  test('an invalid JSON batch is one -32700 object', async () => {
    const r = await post(
      '[{"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},{"jsonrpc": "2.0", "method"]',
    )
    assert.ok(!Array.isArray(r.json))
    assert.equal(asReply(r.json).error?.code, -32700)
  })

  test('a mixed batch: results, errors and no replies for notifications, matched by id', async () => {
    const batch = [
      { jsonrpc: '2.0', method: 'GetSession', params: {}, id: '1' },
      { jsonrpc: '2.0', method: 'GetSession', params: {} },
      { jsonrpc: '2.0', method: 'SignIn', params: ['a', 'b'], id: '2' },
      { foo: 'boo' },
      { jsonrpc: '2.0', method: 'foo.get', params: { name: 'myself' }, id: '5' },
      { jsonrpc: '2.0', method: 'GetSession', id: 9 },
    ]
    const r = await post(JSON.stringify(batch), session)
    assert.equal(r.status, 200)
    const replies = asReplies(r.json)
    assert.equal(replies.length, 5)
    const byId = new Map(replies.filter((x) => x.id !== null).map((x) => [x.id, x]))
    assert.equal(byId.get('1')?.result?.['authType'], 'session')
    assert.equal(byId.get('2')?.error?.code, -32602)
    assert.equal(byId.get('5')?.error?.code, -32601)
    assert.equal(byId.get(9)?.result?.['authType'], 'session')
    const anonymous = replies.filter((x) => x.id === null)
    assert.equal(anonymous.length, 1)
    assert.equal(anonymous[0]?.error?.code, -32600)
  })

  test('a batch of only notifications: HTTP 204, no body', async () => {
    const r = await post(
      JSON.stringify([
        { jsonrpc: '2.0', method: 'GetSession' },
        { jsonrpc: '2.0', method: 'Get2FAStatus' },
      ]),
      session,
    )
    assert.equal(r.status, 204)
    assert.equal(r.text, '')
  })

  test('a batch over the cap is one -32600 object and runs nothing', async () => {
    const calls = Array.from({ length: 21 }, (_, i) => ({ jsonrpc: '2.0', method: 'GetSession', id: i }))
    const r = await post(JSON.stringify(calls), session)
    assert.ok(!Array.isArray(r.json))
    assert.equal(asReply(r.json).error?.code, -32600)
    const atCap = await post(JSON.stringify(calls.slice(0, 20)), session)
    assert.equal(asReplies(atCap.json).length, 20)
  })

  test('each call in a batch counts against sign-in limits as if sent alone', async () => {
    const local = await startTestApp({ SIGNIN_MAX_PER_LOGIN_IP: '3' })
    try {
      const { login } = await local.signUp()
      const wrong = Array.from({ length: 5 }, (_, i) => ({
        jsonrpc: '2.0',
        method: 'SignIn',
        params: { login, password: 'wrong-password-1' },
        id: i,
      }))
      const response = await local.app.inject({
        method: 'POST',
        url: '/rpc',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify(wrong),
      })
      const replies = JSON.parse(response.body) as Reply[]
      const reasonsSeen = replies.map((x) => x.error?.data?.reason)
      assert.ok(reasonsSeen.every((x) => x === 'INVALID_CREDENTIALS' || x === 'RATE_LIMITED'))
      const after = await local.rpc('SignIn', { login, password: 'wrong-password-1' })
      assert.equal(after.body.error?.data['reason'], 'RATE_LIMITED')
    } finally {
      await local.close()
    }
  })
})

describe('HTTP envelope', () => {
  test('every reply body comes with HTTP 200 and Cache-Control: no-store, errors included', async () => {
    const r = await post('{"jsonrpc": "2.0", "method": "GetSession", "id": 1}')
    assert.equal(r.status, 200)
    assert.equal(asReply(r.json).error?.data?.reason, 'UNAUTHENTICATED')
    assert.equal(r.headers['cache-control'], 'no-store')
  })

  test('a body over the limit gets HTTP 413', async () => {
    const big = JSON.stringify({
      jsonrpc: '2.0',
      method: 'SignIn',
      params: { login: 'x'.repeat(70_000), password: 'y' },
      id: 1,
    })
    const r = await post(big)
    assert.equal(r.status, 413)
    assert.equal(asReply(r.json).error?.code, -32600)
  })

  test('the session param works where a client cannot set headers', async () => {
    const r = await post(JSON.stringify({ jsonrpc: '2.0', method: 'GetSession', params: { session }, id: 1 }))
    assert.equal(asReply(r.json).result?.['authType'], 'session')
  })

  test('credentials in the query string are ignored', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: `/rpc?session=${session}`,
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ jsonrpc: '2.0', method: 'GetSession', id: 1 }),
    })
    assert.equal((JSON.parse(response.body) as Reply).error?.data?.reason, 'UNAUTHENTICATED')
  })
})
