import type { SessionRecord, SessionStore } from '../ports/index.js'
import { startSweep, TtlMap, type Clock } from './ttl-map.js'

/** Sessions in process memory; each method runs without an await, so it is atomic here. */
export class MemorySessionStore implements SessionStore {
  readonly #sessions: TtlMap<SessionRecord>
  /** accountId → public id → digest. */
  readonly #index = new Map<string, Map<string, string>>()
  readonly #stopSweep: () => void

  constructor(options: { now?: Clock } = {}) {
    this.#sessions = new TtlMap(options.now ?? Date.now)
    this.#stopSweep = startSweep(() => this.sweep())
  }

  async create(digest: string, session: SessionRecord, idleMs: number): Promise<void> {
    const ttlMs = Math.min(idleMs, session.absoluteExpiresAt - session.lastSeenAt)
    if (!(ttlMs > 0)) throw new RangeError('session would be born expired')
    this.#sessions.set(digest, { ...session }, ttlMs)
    let index = this.#index.get(session.accountId)
    if (!index) {
      index = new Map()
      this.#index.set(session.accountId, index)
    }
    index.set(session.id, digest)
  }

  async authenticate(digest: string, now: number, idleMs: number, touchEveryMs: number): Promise<SessionRecord | null> {
    const session = this.#sessions.get(digest)
    if (!session) return null
    if (now >= session.absoluteExpiresAt || now - session.lastSeenAt >= idleMs) {
      this.#sessions.delete(digest)
      return null
    }
    if (now - session.lastSeenAt < touchEveryMs) return { ...session }
    const touched = { ...session, lastSeenAt: now }
    this.#sessions.replace(digest, touched)
    this.#sessions.expire(digest, Math.min(idleMs, session.absoluteExpiresAt - now))
    return { ...touched }
  }

  async list(accountId: string, now: number): Promise<SessionRecord[]> {
    const live: SessionRecord[] = []
    for (const [id, digest] of this.#indexOf(accountId)) {
      const session = this.#owned(accountId, id, digest)
      if (session && now < session.absoluteExpiresAt) live.push({ ...session })
      else this.#unindex(accountId, id)
    }
    return live.sort(byCreation)
  }

  async revoke(accountId: string, ids: string[] | '*', keepId: string | null): Promise<number> {
    const index = this.#indexOf(accountId)
    const targets = ids === '*' ? [...index.keys()].filter((id) => id !== keepId) : [...new Set(ids)]
    let ended = 0
    for (const id of targets) {
      const digest = index.get(id)
      if (digest === undefined) continue
      if (this.#owned(accountId, id, digest) && this.#sessions.delete(digest)) ended++
      this.#unindex(accountId, id)
    }
    return ended
  }

  async remove(accountId: string, digest: string): Promise<void> {
    const session = this.#sessions.get(digest)
    if (!session || session.accountId !== accountId) return
    this.#sessions.delete(digest)
    this.#unindex(accountId, session.id)
  }

  async setTwoFactorEnabled(accountId: string, enabled: boolean): Promise<void> {
    for (const [id, digest] of this.#indexOf(accountId)) {
      const session = this.#owned(accountId, id, digest)
      if (session) this.#sessions.replace(digest, { ...session, twoFactorEnabled: enabled })
    }
  }

  async setTwoFactorRequiredBy(accountId: string, requiredBy: number | null): Promise<void> {
    for (const [id, digest] of this.#indexOf(accountId)) {
      const session = this.#owned(accountId, id, digest)
      if (session) this.#sessions.replace(digest, { ...session, twoFactorRequiredBy: requiredBy })
    }
  }

  /** Drops expired sessions and the index entries that pointed at them. */
  sweep(): void {
    this.#sessions.sweep()
    for (const [accountId, index] of this.#index) {
      for (const [id, digest] of index) if (!this.#owned(accountId, id, digest)) this.#unindex(accountId, id)
    }
  }

  close(): void {
    this.#stopSweep()
  }

  #indexOf(accountId: string): Map<string, string> {
    return this.#index.get(accountId) ?? new Map<string, string>()
  }

  #owned(accountId: string, id: string, digest: string): SessionRecord | undefined {
    const session = this.#sessions.get(digest)
    return session && session.id === id && session.accountId === accountId ? session : undefined
  }

  #unindex(accountId: string, id: string): void {
    const index = this.#index.get(accountId)
    if (!index) return
    index.delete(id)
    if (index.size === 0) this.#index.delete(accountId)
  }
}

function byCreation(a: SessionRecord, b: SessionRecord): number {
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}
