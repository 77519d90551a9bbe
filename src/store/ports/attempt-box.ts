/**
 * A short-lived record that allows a limited number of wrong guesses: pending sign-ins (`lk2_`
 * tokens) and pending 2FA enrolments. All operations are atomic in the store.
 */
export interface AttemptBoxStore {
  put(key: string, payload: string, attempts: number, ttlMs: number): Promise<void>
  get(key: string): Promise<{ payload: string; attemptsLeft: number } | null>
  /** Spends one attempt; at zero the box is deleted. Returns attempts left, or null if there was no box. */
  fail(key: string): Promise<number | null>
  /** Deletes the box and returns its payload; of concurrent takers exactly one gets it. */
  take(key: string): Promise<string | null>
}
