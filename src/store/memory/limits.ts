import type { CounterRule, LimitStore, Reservation } from '../ports/index.js'
import { startSweep, TtlMap, type Clock } from './ttl-map.js'

/** Failure counters in process memory; each method runs without an await, so it is atomic here. */
export class MemoryLimitStore implements LimitStore {
  readonly #counters: TtlMap<number>
  readonly #locks: TtlMap<true>
  readonly #stopSweep: () => void

  constructor(options: { now?: Clock } = {}) {
    const clock = options.now ?? Date.now
    this.#counters = new TtlMap(clock)
    this.#locks = new TtlMap(clock)
    this.#stopSweep = startSweep(() => {
      this.#counters.sweep()
      this.#locks.sweep()
    })
  }

  async reserve(rules: CounterRule[]): Promise<Reservation> {
    for (const rule of rules) checkRule(rule)
    // Check every rule first, then count in all: all or nothing, as one step.
    const retryAfterMs = rules.reduce((longest, rule) => Math.max(longest, this.#blockedFor(rule)), 0)
    if (retryAfterMs > 0) return { ok: false, retryAfterMs }
    let startedLock = false
    for (const rule of rules) {
      const count = (this.#counters.get(rule.key) ?? 0) + 1
      if (count === 1) this.#counters.set(rule.key, count, Math.ceil(rule.windowMs))
      else this.#counters.replace(rule.key, count)
      if (rule.lock !== undefined && count >= rule.limit) {
        const lockMs = lockLength(rule, count)
        if (lockMs < 1) continue
        this.#locks.set(rule.key, true, lockMs)
        startedLock = true
        // As in Redis: the count outlives the lock by a window, so the next failure keeps doubling.
        if (this.#counters.ttl(rule.key) < lockMs + rule.windowMs)
          this.#counters.expire(rule.key, lockMs + rule.windowMs)
      }
    }
    return startedLock ? { ok: true, startedLock: true } : { ok: true }
  }

  async release(rules: CounterRule[]): Promise<void> {
    for (const rule of rules) {
      const count = this.#counters.get(rule.key)
      if (count !== undefined && count > 0) this.#counters.replace(rule.key, count - 1)
      if (rule.lock !== undefined && (count ?? 0) - 1 < rule.limit) this.#locks.delete(rule.key)
    }
  }

  async reset(keys: string[]): Promise<void> {
    for (const key of keys) {
      this.#counters.delete(key)
      this.#locks.delete(key)
    }
  }

  #blockedFor(rule: CounterRule): number {
    if (rule.lock !== undefined) return this.#locks.ttl(rule.key)
    const count = this.#counters.get(rule.key) ?? 0
    return count < rule.limit ? 0 : Math.max(1, this.#counters.ttl(rule.key))
  }

  close(): void {
    this.#stopSweep()
  }
}

function checkRule(rule: CounterRule): void {
  if (!(rule.windowMs > 0)) throw new RangeError('a window must be positive')
  if (!(rule.limit >= 1)) throw new RangeError('a limit must be at least 1')
}

/** The lock the `count`-th failure starts (the Redis adapter does the same sum in Lua). */
function lockLength(rule: CounterRule, count: number): number {
  if (rule.lock === undefined) return 0
  const limit = Math.floor(rule.limit)
  return Math.floor(Math.min(Math.floor(rule.lock.baseMs) * 2 ** (count - limit), Math.floor(rule.lock.maxMs)))
}
