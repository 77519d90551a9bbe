import type { CounterRule, LimitStore } from '../ports/index.js'
import { startSweep, TtlMap, type Clock } from './ttl-map.js'

/** Failure counters in process memory; each method runs without an await, so it is atomic here. */
export class MemoryLimitStore implements LimitStore {
  readonly #counters: TtlMap<number>
  readonly #escalating: TtlMap<number>
  readonly #locks: TtlMap<true>
  readonly #stopSweep: () => void

  constructor(options: { now?: Clock } = {}) {
    const clock = options.now ?? Date.now
    this.#counters = new TtlMap(clock)
    this.#escalating = new TtlMap(clock)
    this.#locks = new TtlMap(clock)
    this.#stopSweep = startSweep(() => {
      this.#counters.sweep()
      this.#escalating.sweep()
      this.#locks.sweep()
    })
  }

  async blockedFor(rules: CounterRule[]): Promise<number> {
    return rules.reduce((longest, rule) => {
      const count = this.#counters.get(rule.key) ?? 0
      return count < rule.limit ? longest : Math.max(longest, this.#counters.ttl(rule.key))
    }, 0)
  }

  async hit(rules: CounterRule[]): Promise<void> {
    for (const rule of rules) {
      if (!(rule.windowMs > 0)) throw new RangeError('a window must be positive')
    }
    for (const rule of rules) countInWindow(this.#counters, rule.key, rule.windowMs)
  }

  async reset(keys: string[]): Promise<void> {
    for (const key of keys) {
      this.#counters.delete(key)
      this.#escalating.delete(key)
      this.#locks.delete(key)
    }
  }

  async hitEscalating(
    key: string,
    rule: { threshold: number; windowMs: number; baseMs: number; maxMs: number },
  ): Promise<number> {
    if (!(rule.windowMs > 0)) throw new RangeError('a window must be positive')
    const threshold = Math.max(1, Math.floor(rule.threshold))
    const failures = countInWindow(this.#escalating, key, rule.windowMs)
    if (failures < threshold) return 0
    const lockMs = Math.floor(Math.min(Math.floor(rule.baseMs) * 2 ** (failures - threshold), Math.floor(rule.maxMs)))
    if (lockMs < 1) return 0
    this.#locks.set(key, true, lockMs)
    // As in Redis: the count outlives the lock by a window, so the next failure keeps doubling.
    if (this.#escalating.ttl(key) < lockMs + rule.windowMs) this.#escalating.expire(key, lockMs + rule.windowMs)
    return lockMs
  }

  async lockedFor(key: string): Promise<number> {
    return this.#locks.ttl(key)
  }

  close(): void {
    this.#stopSweep()
  }
}

/** One more failure in a fixed window that starts at the first; returns the count. */
function countInWindow(counters: TtlMap<number>, key: string, windowMs: number): number {
  const count = (counters.get(key) ?? 0) + 1
  if (count === 1) counters.set(key, count, Math.ceil(windowMs))
  else counters.replace(key, count)
  return count
}
