/**
 * Calls on either transport reduced to what both share, for tests that run a case on `/rpc` and
 * `/api` alike, plus small helpers for client IPs, ISO times and free ports.
 */
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { reasons, type Reason } from '../../src/errors.js'
import type { CallOptions, CallResult, TestApp } from './app.js'

export type Transport = 'rpc' | 'api'
export const transports: readonly Transport[] = ['rpc', 'api']

export type Json = Record<string, unknown>

export type Reply =
  | { ok: true; status: number; result: Json; headers: CallResult['headers'] }
  | {
      ok: false
      status: number
      code: number
      reason: unknown
      message: string
      data: Json
      headers: CallResult['headers']
    }

/** One call; JSON-RPC errors must come with HTTP 200, /api errors with their reason's status. */
export async function call(
  t: TestApp,
  transport: Transport,
  method: string,
  params?: unknown,
  options?: CallOptions,
): Promise<Reply> {
  const reply = transport === 'rpc' ? await t.rpc(method, params, options) : await t.api(method, params, options)
  const error = reply.body.error
  if (error !== undefined) {
    const reason = error.data['reason']
    if (transport === 'rpc') assert.equal(reply.status, 200, 'JSON-RPC errors still come with HTTP 200')
    else if (typeof reason === 'string' && reason in reasons)
      assert.equal(reply.status, reasons[reason as Reason].httpStatus, `HTTP status of ${reason}`)
    return {
      ok: false,
      status: reply.status,
      code: error.code,
      reason,
      message: error.message,
      data: error.data,
      headers: reply.headers,
    }
  }
  const result = transport === 'rpc' ? reply.body.result : reply.body
  assert.ok(
    result !== undefined && reply.status === 200,
    `${method} answered ${reply.status} ${JSON.stringify(reply.body)}`,
  )
  return { ok: true, status: reply.status, result, headers: reply.headers }
}

export async function ok(
  t: TestApp,
  transport: Transport,
  method: string,
  params?: unknown,
  options?: CallOptions,
): Promise<Json> {
  const reply = await call(t, transport, method, params, options)
  assert.ok(
    reply.ok,
    `${method} failed: ${JSON.stringify(reply.ok ? null : { reason: reply.reason, message: reply.message, data: reply.data })}`,
  )
  return reply.result
}

/** The reason a call failed with, or 'OK': for comparing one call's outcome across instances and transports. */
export async function outcome(
  t: TestApp,
  transport: Transport,
  method: string,
  params?: unknown,
  options?: CallOptions,
): Promise<unknown> {
  const reply = await call(t, transport, method, params, options)
  return reply.ok ? 'OK' : reply.reason
}

export interface Failure {
  reason: Reason
  status: number
  code: number
  message: string
  data: Json
  headers: CallResult['headers']
}

export async function fails(
  t: TestApp,
  transport: Transport,
  method: string,
  reason: Reason,
  params?: unknown,
  options?: CallOptions,
): Promise<Failure> {
  const reply = await call(t, transport, method, params, options)
  assert.ok(
    !reply.ok,
    `${method} should have failed with ${reason} but answered ${JSON.stringify(reply.ok ? reply.result : null)}`,
  )
  assert.equal(reply.reason, reason, `${method}: ${reply.message} ${JSON.stringify(reply.data)}`)
  assert.equal(reply.code, reasons[reason].rpcCode)
  return {
    reason,
    status: reply.status,
    code: reply.code,
    message: reply.message,
    data: reply.data,
    headers: reply.headers,
  }
}

/** Options that make the call come from `ip` (honoured only with TRUST_PROXY). */
export const fromIp = (ip: string, extra: CallOptions = {}): CallOptions => ({
  ...extra,
  headers: { ...extra.headers, 'x-forwarded-for': ip },
})

export const list = (value: unknown): Json[] => {
  assert.ok(Array.isArray(value), `expected an array, got ${JSON.stringify(value)}`)
  return value.map((item: unknown) => {
    assert.ok(
      typeof item === 'object' && item !== null && !Array.isArray(item),
      `expected an object, got ${JSON.stringify(item)}`,
    )
    return item as Json
  })
}

export const isoPattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/

/** Milliseconds of an ISO-8601 UTC timestamp; fails the test for anything else. */
export function isoMs(value: unknown): number {
  assert.equal(typeof value, 'string', `expected a timestamp, got ${JSON.stringify(value)}`)
  assert.match(value as string, isoPattern)
  const ms = Date.parse(value as string)
  assert.ok(Number.isFinite(ms))
  return ms
}

/** `actual` within `toleranceMs` of `expected`. */
export function assertNear(actual: number, expected: number, toleranceMs: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= toleranceMs,
    `${what}: off by ${Math.round(actual - expected)} ms (allowed ±${toleranceMs})`,
  )
}

/** A TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Retries `probe` until it returns true or `withinMs` passes; returns the time it took. */
export async function eventually(
  probe: () => Promise<boolean>,
  withinMs: number,
  what: string,
  everyMs = 100,
): Promise<number> {
  const started = performance.now()
  for (;;) {
    let done = false
    try {
      done = await probe()
    } catch {
      done = false
    }
    if (done) return performance.now() - started
    if (performance.now() - started > withinMs) assert.fail(`${what}: not within ${withinMs} ms`)
    await sleep(everyMs)
  }
}
