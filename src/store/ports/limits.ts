export interface CounterRule {
  key: string
  limit: number
  windowMs: number
}

export interface LimitStore {
  /** Milliseconds until every rule is under its limit again; 0 when none is at or past it. */
  blockedFor(rules: CounterRule[]): Promise<number>
  /** Counts one failure against each rule (fixed window starting at the first failure). */
  hit(rules: CounterRule[]): Promise<void>
  reset(keys: string[]): Promise<void>
  /**
   * Counts a failure on an escalating lock: from the `threshold`-th failure within `windowMs`,
   * the key locks for baseMs × 2^(failures − threshold), at most maxMs. Returns the lock in ms (0: none).
   */
  hitEscalating(
    key: string,
    rule: { threshold: number; windowMs: number; baseMs: number; maxMs: number },
  ): Promise<number>
  /** Milliseconds left on an escalating lock (0: none). */
  lockedFor(key: string): Promise<number>
}
