// W3C traceparent parsing: valid headers give their ids, anything the spec calls invalid gives null.
import assert from 'node:assert/strict'
import type { IncomingMessage } from 'node:http'
import { test } from 'node:test'
import { traceContext } from '../../src/trace.js'

const withHeader = (traceparent: string | undefined) => ({ headers: { traceparent } }) as unknown as IncomingMessage
const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
const spanId = '00f067aa0ba902b7'

test('a valid version-00 header gives its trace id and parent span id', () => {
  assert.deepEqual(traceContext(withHeader(`00-${traceId}-${spanId}-01`)), { traceId, spanId })
  assert.deepEqual(traceContext(withHeader(`00-${traceId}-${spanId}-00`)), { traceId, spanId })
})

test('a later version may append fields', () => {
  assert.deepEqual(traceContext(withHeader(`01-${traceId}-${spanId}-01-extra`)), { traceId, spanId })
})

test('invalid headers are ignored', () => {
  for (const header of [
    undefined,
    '',
    `ff-${traceId}-${spanId}-01`,
    `00-${'0'.repeat(32)}-${spanId}-01`,
    `00-${traceId}-${'0'.repeat(16)}-01`,
    `00-${traceId.toUpperCase()}-${spanId}-01`,
    `00-${traceId}-${spanId}-01-extra`,
    `00-${traceId.slice(1)}-${spanId}-01`,
    `00-${traceId}-${spanId}`,
    `{"traceId":"${traceId}"}`,
  ])
    assert.equal(traceContext(withHeader(header)), null, String(header))
})
