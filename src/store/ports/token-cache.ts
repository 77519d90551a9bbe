import type { Digest } from '../../domain/credentials.js'

export interface CachedToken {
  id: string
  accountId: string
  login: string
  twoFactorEnabled: boolean
  /** The operator's 2FA deadline (epoch ms) or null; evicted when an operator changes it. */
  twoFactorRequiredBy: number | null
  /** The account is locked by an operator: the token is refused (cached so refusals cost no Postgres read). */
  locked: boolean
  apiList: string[] | null
  expiresAt: number | null
}

export interface TokenCacheStore {
  /**
   * The cached token for this digest, recording its use in the same round trip. `flushDue` is
   * true at most once per `flushEveryMs` per token: then the caller writes the use to Postgres.
   */
  lookup(
    digest: Digest,
    use: { at: number; ip: string },
    flushEveryMs: number,
  ): Promise<{ token: CachedToken; flushDue: boolean } | null>
  /** After a miss: whether the digest was looked up lately and matched no token (see `putUnknown`). */
  isUnknown(digest: Digest): Promise<boolean>
  /** Remembers that no token has this digest, so a flood of unknown tokens is not a Postgres read each. */
  putUnknown(digest: Digest, ttlMs: number): Promise<void>
  /** Forgets `putUnknown` entries: done before a token with one of these digests is committed. */
  clearUnknown(digests: Digest[]): Promise<void>
  put(digest: Digest, token: CachedToken, ttlMs: number): Promise<void>
  /** Revocation: takes effect on every instance at once. */
  evict(digests: Digest[]): Promise<void>
  /** The freshest recorded uses, for GetTokens. */
  lastUses(digests: Digest[]): Promise<Map<Digest, { at: number; ip: string }>>
}
