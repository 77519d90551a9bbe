/**
 * A counter of failed attempts in a fixed window that starts at the first one. With `lock`, the
 * counter drives an escalating lock instead of a plain cap: from the `limit`-th failure within the
 * window the key locks for baseMs × 2^(failures − limit), at most maxMs, and the count outlives
 * the lock by a window so the next failure after it keeps doubling.
 */
export interface CounterRule {
  key: string
  limit: number
  windowMs: number
  lock?: { baseMs: number; maxMs: number }
}

/** `startedLock`: this place reached a lock rule's limit, so the lock now holds (for metrics). */
export type Reservation = { ok: true; startedLock?: true } | { ok: false; retryAfterMs: number }

/**
 * Reserve first, settle after: an attempt takes its place in every counter *before* its password
 * or code is checked, so N attempts at once get no more checks than N one after another. A checked
 * failure keeps its place; a success gives it back (`release`) or wipes the count (`reset`).
 */
export interface LimitStore {
  /**
   * Takes one place in every rule, or none: while any plain rule is full or any lock holds, the
   * attempt is refused with the longest wait and counts nowhere (a refused attempt never
   * lengthens a lock). A lock rule's place is counted as a failure at once: the place that
   * reaches `limit` starts the lock, so attempts arriving meanwhile are refused unchecked.
   */
  reserve(rules: CounterRule[]): Promise<Reservation>
  /**
   * Gives back the place `reserve` took, for an attempt that did not end as a checked failure (a
   * right password; an attempt stopped before its check). A lock rule whose count falls below its
   * limit again lifts the lock that place started.
   */
  release(rules: CounterRule[]): Promise<void>
  /** Forgets counts and locks under these keys (the owner got in). */
  reset(keys: string[]): Promise<void>
}
