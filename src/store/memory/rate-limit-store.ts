import type { FastifyRateLimitStore } from '@fastify/rate-limit'

/**
 * @fastify/rate-limit's counters in process memory, for the embedded mode. The plugin's own
 * LocalStore hands every caller the same mutable record, so calls that overlap (a batch) all read
 * the count after the last increment; this one answers each call with its own count.
 */
export class MemoryRateLimitStore implements FastifyRateLimitStore {
  readonly #windows = new Map<string, { count: number; endsAt: number }>()

  incr(
    key: string,
    callback: (error: Error | null, result?: { current: number; ttl: number }) => void,
    timeWindow: number,
  ): void {
    const now = Date.now()
    if (this.#windows.size > 50_000) this.#sweep(now)
    const window = this.#windows.get(key)
    const live = window !== undefined && window.endsAt > now ? window : { count: 0, endsAt: now + timeWindow }
    live.count++
    this.#windows.set(key, live)
    callback(null, { current: live.count, ttl: live.endsAt - now })
  }

  child(): FastifyRateLimitStore {
    return new MemoryRateLimitStore()
  }

  #sweep(now: number): void {
    for (const [key, window] of this.#windows) if (window.endsAt <= now) this.#windows.delete(key)
  }
}
