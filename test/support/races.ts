/**
 * Helpers for the concurrency threat tests: count calls to real code (a password check, a store
 * read) without changing what it does, and send many calls as one JSON-RPC batch.
 */
import assert from 'node:assert/strict'
import type { CallOptions, TestApp } from './app.js'

/** Wraps `object[name]` to count its calls; `restore()` puts the original back. */
export function countCalls<T extends object, K extends keyof T>(
  object: T,
  name: K,
): { readonly count: number; restore(): void } {
  const original = object[name]
  if (typeof original !== 'function') throw new TypeError(`${String(name)} is not a method`)
  let count = 0
  const counted = (...args: unknown[]) => {
    count++
    return Reflect.apply(original, object, args)
  }
  object[name] = counted as T[K]
  return {
    get count() {
      return count
    },
    restore() {
      object[name] = original
    },
  }
}

/** Counts password checks (against real hashes and the dummy one) on every app given. */
export function countPasswordChecks(...apps: TestApp[]): { readonly count: number; restore(): void } {
  const counters = apps.flatMap((t) => [
    countCalls(t.services.passwords, 'verify'),
    countCalls(t.services.passwords, 'verifyAgainstDummy'),
  ])
  return {
    get count() {
      return counters.reduce((sum, c) => sum + c.count, 0)
    },
    restore() {
      for (const c of counters) c.restore()
    },
  }
}

export interface BatchReply {
  id: number
  result?: Record<string, unknown>
  error?: { code: number; message: string; data: Record<string, unknown> }
}

/** One JSON-RPC batch of `calls`; replies sorted by id (the index of the call). */
export async function batch(
  t: TestApp,
  calls: Array<{ method: string; params: unknown }>,
  options: CallOptions = {},
): Promise<BatchReply[]> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers }
  if (options.bearer !== undefined) headers['authorization'] = `Bearer ${options.bearer}`
  const response = await t.app.inject({
    method: 'POST',
    url: '/rpc',
    headers,
    payload: JSON.stringify(calls.map((c, id) => ({ jsonrpc: '2.0', id, method: c.method, params: c.params }))),
  })
  assert.equal(response.statusCode, 200, response.body)
  const replies = JSON.parse(response.body) as BatchReply[]
  assert.equal(replies.length, calls.length)
  return replies.sort((a, b) => a.id - b.id)
}

export const reasonOf = (reply: BatchReply): string =>
  reply.error === undefined ? 'ok' : String(reply.error.data['reason'])

/** How many of each outcome: {ok: 3, RATE_LIMITED: 7}. */
export function tally(outcomes: string[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const outcome of outcomes) counts[outcome] = (counts[outcome] ?? 0) + 1
  return counts
}
