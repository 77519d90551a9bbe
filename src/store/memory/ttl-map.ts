/** A clock in epoch milliseconds; injectable so tests can move time. */
export type Clock = () => number

/** How often the unref()ed sweep drops expired entries that nobody read again. */
export const sweepEveryMs = 60_000

/**
 * The in-process stand-in for keys with a PEXPIRE: entries vanish at `expiresAt` (lazily on
 * access, and in `sweep` so unread entries do not pile up).
 */
export class TtlMap<V> {
  readonly #entries = new Map<string, { value: V; expiresAt: number }>()
  readonly #clock: Clock

  constructor(clock: Clock) {
    this.#clock = clock
  }

  get(key: string): V | undefined {
    const entry = this.#live(key)
    return entry?.value
  }

  /** Milliseconds left, or 0 when the key is absent (unlike PTTL's negative codes). */
  ttl(key: string): number {
    const entry = this.#live(key)
    return entry ? entry.expiresAt - this.#clock() : 0
  }

  set(key: string, value: V, ttlMs: number): void {
    this.#entries.set(key, { value, expiresAt: this.#clock() + ttlMs })
  }

  /** Changes the value and keeps the expiry; false when the key is absent. */
  replace(key: string, value: V): boolean {
    const entry = this.#live(key)
    if (!entry) return false
    entry.value = value
    return true
  }

  /** Sets the remaining life of a present key; false when absent. */
  expire(key: string, ttlMs: number): boolean {
    const entry = this.#live(key)
    if (!entry) return false
    entry.expiresAt = this.#clock() + ttlMs
    return true
  }

  delete(key: string): boolean {
    return this.#live(key) !== undefined && this.#entries.delete(key)
  }

  sweep(): void {
    const now = this.#clock()
    for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(key)
  }

  #live(key: string): { value: V; expiresAt: number } | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt > this.#clock()) return entry
    this.#entries.delete(key)
    return undefined
  }
}

/** Runs `sweep` periodically without keeping the process alive; returns the stop function. */
export function startSweep(sweep: () => void, everyMs = sweepEveryMs): () => void {
  const timer = setInterval(sweep, everyMs)
  timer.unref()
  return () => clearInterval(timer)
}
