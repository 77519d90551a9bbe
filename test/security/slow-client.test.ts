/**
 * A client that never finishes its request cannot hold a connection: past REQUEST_TIMEOUT_SECONDS
 * (1 s here) it gets a 408 in contract shape and the connection closes, whether the body stopped
 * short of its Content-Length, trickles in chunk by chunk, or the headers never end. The bounds
 * asserted (well under the 30 s default and the 100 s+ seen before) are limits, not speed checks.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { startTestApp, type TestApp } from '../support/app.js'
import { listenOnLoopback, rawExchange, type RawAnswer } from '../support/raw-http.js'
import { sleep } from '../support/calls.js'

const limitMs = 1_000
// Node checks for overdue requests every quarter of the limit; anything past a few limits is a failure.
const cutWithinMs = limitMs * 5

let t: TestApp
let port: number

before(async () => {
  t = await startTestApp({ REQUEST_TIMEOUT_SECONDS: String(limitMs / 1000), KEEP_ALIVE_SECONDS: '1' })
  port = await listenOnLoopback(t.app)
})
after(() => t.close())

function assertCut(answer: RawAnswer, transport: 'rpc' | 'api'): void {
  assert.ok(answer.closed, 'the server must close the connection')
  assert.ok(answer.elapsedMs >= limitMs * 0.9, `cut after ${Math.round(answer.elapsedMs)} ms, before the limit`)
  assert.ok(answer.elapsedMs < cutWithinMs, `cut only after ${Math.round(answer.elapsedMs)} ms`)
  assert.equal(answer.status, 408, answer.raw.slice(0, 200))
  assert.equal(answer.headers['cache-control'], 'no-store')
  assert.match(answer.headers['x-request-id'] ?? '', /^[A-Za-z0-9._:-]+$/)
  const body = JSON.parse(answer.body) as {
    id?: unknown
    jsonrpc?: string
    error: { code: number; data: { reason: string } }
  }
  assert.equal(body.error.data.reason, 'INVALID_REQUEST')
  assert.equal(body.error.code, -32600)
  if (transport === 'rpc') {
    assert.equal(body.jsonrpc, '2.0')
    assert.equal(body.id, null)
  }
}

test('a Content-Length body that stops short is cut at the limit with 408', async () => {
  const answer = await rawExchange(port, (socket) => {
    socket.write(
      'POST /api/SignIn HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"login":',
    )
  })
  assertCut(answer, 'api')
})

test('the same on /rpc answers with the JSON-RPC body, keeping the request id', async () => {
  const answer = await rawExchange(port, (socket) => {
    socket.write('POST /rpc HTTP/1.1\r\nHost: a\r\nX-Request-Id: slow-rpc-1\r\nContent-Length: 100\r\n\r\n[')
  })
  assertCut(answer, 'rpc')
  assert.equal(answer.headers['x-request-id'], 'slow-rpc-1')
})

test('a chunked body trickled a byte at a time is cut at the limit', async () => {
  let chunks = 0
  const answer = await rawExchange(port, async (socket, answered) => {
    socket.write('POST /api/SignIn HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n')
    while (!answered() && !socket.destroyed && chunks < 200) {
      socket.write('1\r\n \r\n')
      chunks++
      await sleep(100)
    }
  })
  assertCut(answer, 'api')
  assert.ok(chunks >= 5, 'the client kept sending throughout')
})

test('headers that never end are cut at the limit', async () => {
  const answer = await rawExchange(port, async (socket, answered) => {
    socket.write('POST /api/SignIn HTTP/1.1\r\nHost: a\r\n')
    for (let i = 0; !answered() && !socket.destroyed && i < 200; i++) {
      socket.write(`X-Slow-${i}: 1\r\n`)
      await sleep(100)
    }
  })
  assertCut(answer, 'api')
})

test('a request that arrives in time is served as usual', async () => {
  const answer = await rawExchange(port, async (socket) => {
    socket.write('POST /api/SignIn HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 2\r\n')
    await sleep(limitMs / 4)
    socket.write('Connection: close\r\n\r\n{')
    await sleep(limitMs / 4)
    socket.write('}')
  })
  assert.equal(answer.status, 400, answer.raw.slice(0, 200))
  assert.equal(JSON.parse(answer.body).error.data.reason, 'INVALID_PARAMS')
})

test('an idle keep-alive connection is closed after KEEP_ALIVE_SECONDS', async () => {
  const answer = await rawExchange(port, (socket) => {
    socket.write('GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n')
  })
  assert.equal(answer.status, 200)
  assert.equal(answer.headers['keep-alive'], 'timeout=1')
  assert.ok(answer.closed, 'the server must close the idle connection')
  assert.ok(answer.elapsedMs >= 900, `closed after ${Math.round(answer.elapsedMs)} ms, before the limit`)
  assert.ok(answer.elapsedMs < cutWithinMs, `closed only after ${Math.round(answer.elapsedMs)} ms`)
})

test('cutting slow requests writes no error lines', () => {
  const errors = t.logLines.filter((line) => (JSON.parse(line) as { level: number }).level >= 50)
  assert.deepEqual(errors, [])
})
