import type { Digest } from '../../domain/credentials.js'
import type { CachedToken, TokenCacheStore } from '../ports/index.js'
import { evictionGuardMs, tokenUseTtlMs } from '../redis/lifetimes.js'
import { startSweep, TtlMap, type Clock } from './ttl-map.js'

type Use = { at: number; ip: string }

/** The PAT cache in process memory; each method runs without an await, so it is atomic here. */
export class MemoryTokenCacheStore implements TokenCacheStore {
  readonly #tokens: TtlMap<CachedToken>
  readonly #uses: TtlMap<Use>
  readonly #flushMarkers: TtlMap<true>
  readonly #evicted: TtlMap<true>
  readonly #unknown: TtlMap<true>
  readonly #stopSweep: () => void

  constructor(options: { now?: Clock } = {}) {
    const clock = options.now ?? Date.now
    this.#tokens = new TtlMap(clock)
    this.#uses = new TtlMap(clock)
    this.#flushMarkers = new TtlMap(clock)
    this.#evicted = new TtlMap(clock)
    this.#unknown = new TtlMap(clock)
    this.#stopSweep = startSweep(() => {
      for (const map of [this.#tokens, this.#uses, this.#flushMarkers, this.#evicted, this.#unknown]) map.sweep()
    })
  }

  async lookup(
    digest: string,
    use: Use,
    flushEveryMs: number,
  ): Promise<{ token: CachedToken; flushDue: boolean } | null> {
    if (!(flushEveryMs > 0)) throw new RangeError('flushEveryMs must be positive')
    const token = this.#tokens.get(digest)
    if (!token) return null
    const previous = this.#uses.get(digest)
    if (!previous || previous.at <= use.at) this.#uses.set(digest, { at: use.at, ip: use.ip }, tokenUseTtlMs)
    else this.#uses.expire(digest, tokenUseTtlMs)
    const flushDue = this.#flushMarkers.get(digest) === undefined
    if (flushDue) this.#flushMarkers.set(digest, true, flushEveryMs)
    return { token: copy(token), flushDue }
  }

  async put(digest: string, token: CachedToken, ttlMs: number): Promise<void> {
    if (!(ttlMs > 0)) throw new RangeError('ttlMs must be positive')
    // Same guard as Redis: a load that raced a revocation must not re-cache the token.
    if (this.#evicted.get(digest)) return
    this.#tokens.set(digest, copy(token), ttlMs)
  }

  async isUnknown(digest: string): Promise<boolean> {
    return this.#unknown.get(digest) === true
  }

  async putUnknown(digest: string, ttlMs: number): Promise<void> {
    if (!(ttlMs > 0)) throw new RangeError('ttlMs must be positive')
    this.#unknown.set(digest, true, ttlMs)
  }

  async clearUnknown(digests: string[]): Promise<void> {
    for (const digest of digests) this.#unknown.delete(digest)
  }

  async evict(digests: string[]): Promise<void> {
    for (const digest of digests) {
      this.#evicted.set(digest, true, evictionGuardMs)
      this.#tokens.delete(digest)
    }
  }

  async lastUses(digests: Digest[]): Promise<Map<Digest, Use>> {
    const uses = new Map<Digest, Use>()
    for (const digest of digests) {
      const use = this.#uses.get(digest)
      if (use) uses.set(digest, { ...use })
    }
    return uses
  }

  close(): void {
    this.#stopSweep()
  }
}

function copy(token: CachedToken): CachedToken {
  return { ...token, apiList: token.apiList === null ? null : [...token.apiList] }
}
