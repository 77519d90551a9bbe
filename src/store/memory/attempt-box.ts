import type { AttemptBoxStore } from '../ports/index.js'
import { startSweep, TtlMap, type Clock } from './ttl-map.js'

/** Attempt boxes in process memory; each method runs without an await, so it is atomic here. */
export class MemoryAttemptBoxStore implements AttemptBoxStore {
  readonly #boxes: TtlMap<{ payload: string; attemptsLeft: number }>
  readonly #stopSweep: () => void

  constructor(options: { now?: Clock } = {}) {
    this.#boxes = new TtlMap(options.now ?? Date.now)
    this.#stopSweep = startSweep(() => this.#boxes.sweep())
  }

  async put(key: string, payload: string, attempts: number, ttlMs: number): Promise<void> {
    if (!Number.isInteger(attempts) || attempts < 1) throw new RangeError('attempts must be a positive integer')
    if (!(ttlMs > 0)) throw new RangeError('ttlMs must be positive')
    this.#boxes.set(key, { payload, attemptsLeft: attempts }, ttlMs)
  }

  async get(key: string): Promise<{ payload: string; attemptsLeft: number } | null> {
    const box = this.#boxes.get(key)
    return box ? { ...box } : null
  }

  async fail(key: string): Promise<number | null> {
    const box = this.#boxes.get(key)
    if (!box) return null
    const attemptsLeft = box.attemptsLeft - 1
    if (attemptsLeft <= 0) {
      this.#boxes.delete(key)
      return 0
    }
    this.#boxes.replace(key, { ...box, attemptsLeft })
    return attemptsLeft
  }

  async take(key: string): Promise<string | null> {
    const box = this.#boxes.get(key)
    if (!box) return null
    this.#boxes.delete(key)
    return box.payload
  }

  close(): void {
    this.#stopSweep()
  }
}
