/**
 * A short-lived record that allows a limited number of wrong guesses: pending sign-ins (`lk2_`
 * tokens) and pending 2FA enrolments. All operations are atomic in the store.
 *
 * Reserve first: a guess takes its attempt before it is checked, so parallel guesses never get
 * more checks than the box has attempts. A guess found right then claims the box before spending
 * anything, so of two right guesses in parallel one goes on; a spend that fails gives the claim
 * back (the attempt stays taken).
 */
export interface AttemptBoxStore {
  put(key: string, payload: string, attempts: number, ttlMs: number): Promise<void>
  get(key: string): Promise<{ payload: string; attemptsLeft: number } | null>
  /**
   * Takes one attempt and returns the payload with the attempts left after it; null when there is
   * no box, no attempt left or the box is claimed. A box at zero stays until it is taken or
   * expires, so the guess that took the last attempt can still claim it.
   */
  reserve(key: string): Promise<{ payload: string; attemptsLeft: number } | null>
  /** Of concurrent claimers exactly one gets true; the claim lapses after `leaseMs` if never settled. */
  claim(key: string, leaseMs: number): Promise<boolean>
  /** Gives a claim back (its spend failed). */
  unclaim(key: string): Promise<void>
  /** Deletes the box (and its claim) and returns its payload; of concurrent takers exactly one gets it. */
  take(key: string): Promise<string | null>
}
