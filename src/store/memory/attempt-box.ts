import type { AttemptBoxStore } from '../ports/index.js'
import { startSweep, TtlMap, type Clock } from './ttl-map.js'

/** Attempt boxes in process memory; each method runs without an await, so it is atomic here. */
export class MemoryAttemptBoxStore implements AttemptBoxStore {
  readonly #boxes: TtlMap<{ payload: string; attemptsLeft: number }>
  readonly #claims: TtlMap<true>
  readonly #stopSweep: () => void

  constructor(options: { now?: Clock } = {}) {
    const clock = options.now ?? Date.now
    this.#boxes = new TtlMap(clock)
    this.#claims = new TtlMap(clock)
    this.#stopSweep = startSweep(() => {
      this.#boxes.sweep()
      this.#claims.sweep()
    })
  }

  async put(key: string, payload: string, attempts: number, ttlMs: number): Promise<void> {
    if (!Number.isInteger(attempts) || attempts < 1) throw new RangeError('attempts must be a positive integer')
    if (!(ttlMs > 0)) throw new RangeError('ttlMs must be positive')
    this.#claims.delete(key)
    this.#boxes.set(key, { payload, attemptsLeft: attempts }, ttlMs)
  }

  async get(key: string): Promise<{ payload: string; attemptsLeft: number } | null> {
    const box = this.#boxes.get(key)
    return box ? { ...box } : null
  }

  async reserve(key: string): Promise<{ payload: string; attemptsLeft: number } | null> {
    const box = this.#boxes.get(key)
    if (!box || box.attemptsLeft <= 0 || this.#claims.get(key)) return null
    const reserved = { payload: box.payload, attemptsLeft: box.attemptsLeft - 1 }
    this.#boxes.replace(key, reserved)
    return { ...reserved }
  }

  async claim(key: string, leaseMs: number): Promise<boolean> {
    if (!(leaseMs > 0)) throw new RangeError('leaseMs must be positive')
    if (!this.#boxes.get(key) || this.#claims.get(key)) return false
    this.#claims.set(key, true, leaseMs)
    return true
  }

  async unclaim(key: string): Promise<void> {
    this.#claims.delete(key)
  }

  async take(key: string): Promise<string | null> {
    const box = this.#boxes.get(key)
    this.#claims.delete(key)
    if (!box) return null
    this.#boxes.delete(key)
    return box.payload
  }

  close(): void {
    this.#stopSweep()
  }
}
