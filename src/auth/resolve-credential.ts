import { AppError } from '../errors.js'
import { credentialDigest, credentialKind, type Digest } from '../domain/credentials.js'
import type { CachedToken } from '../store/ports/index.js'
import type { Services } from '../services.js'
import type { AdminCaller, Caller, Origin } from '../rpc/define-method.js'
import { matchAdminKey } from '../domain/admin-keys.js'
import { adminKeys } from './admin-keys.js'

const unauthenticated = () => new AppError('UNAUTHENTICATED', 'The credential is unknown, expired or revoked.')

/**
 * The hot path of every authenticated call: a format check offline, one SHA-256, one Redis round
 * trip. Postgres is read only when a PAT is not cached yet.
 */
export async function resolveCredential(
  services: Services,
  credential: string,
  origin: Origin,
  now: Date,
): Promise<Caller | AdminCaller> {
  const kind = credentialKind(credential)
  if (kind === 'pending')
    throw new AppError('UNAUTHENTICATED', 'A pending two-factor token can only be used with Verify2FACode.')
  if (kind === null) throw unauthenticated()
  if (kind === 'admin') {
    // No I/O: the configured digests are compared in constant time.
    const keyName = matchAdminKey(adminKeys(services.config), credential)
    if (keyName === null) throw unauthenticated()
    return { kind: 'admin', keyName }
  }
  const digest = credentialDigest(credential)
  const nowMs = now.getTime()
  const { config, stores } = services

  if (kind === 'session') {
    const idleMs = config.SESSION_IDLE_SECONDS * 1000
    const session = await stores.sessions.authenticate(digest, nowMs, idleMs, sessionTouchEveryMs(idleMs))
    if (session === null) throw unauthenticated()
    return {
      kind: 'session',
      accountId: session.accountId,
      login: session.login,
      twoFactorEnabled: session.twoFactorEnabled,
      twoFactorRequiredBy: session.twoFactorRequiredBy,
      sessionId: session.id,
      sessionDigest: digest,
      expiresAt: Math.min(session.lastSeenAt + idleMs, session.absoluteExpiresAt),
    }
  }

  const token = await lookUpToken(services, digest, origin, nowMs)
  // A locked account's tokens answer exactly like revoked ones.
  if (token === null || token.locked || (token.expiresAt !== null && token.expiresAt <= nowMs)) throw unauthenticated()
  return {
    kind: 'token',
    accountId: token.accountId,
    login: token.login,
    twoFactorEnabled: token.twoFactorEnabled,
    twoFactorRequiredBy: token.twoFactorRequiredBy,
    tokenId: token.id,
    apiList: token.apiList,
    expiresAt: token.expiresAt,
  }
}

/** Idle expiry is refreshed at most this often: a minute of precision saves a write per request. */
export function sessionTouchEveryMs(idleMs: number): number {
  return Math.min(60_000, Math.floor(idleMs / 10))
}

async function lookUpToken(
  services: Services,
  digest: Digest,
  origin: Origin,
  nowMs: number,
): Promise<CachedToken | null> {
  const { config, stores } = services
  const flushEveryMs = config.TOKEN_LAST_USED_FLUSH_SECONDS * 1000
  const cached = await stores.tokenCache.lookup(digest, { at: nowMs, ip: origin.ip }, flushEveryMs)
  if (cached !== null) {
    if (cached.flushDue && !cached.token.locked) void recordUse(services, cached.token.id, nowMs, origin.ip)
    return cached.token
  }

  // A flood of well-formed unknown (or expired) tokens must not be a Postgres read per call.
  if (await stores.tokenCache.isUnknown(digest)) return null
  const row = await stores.tokens.findByDigest(digest)
  const expiresAt = row?.expiresAt?.getTime() ?? null
  if (row === null || (expiresAt !== null && expiresAt <= nowMs)) {
    await stores.tokenCache.putUnknown(digest, config.TOKEN_UNKNOWN_CACHE_SECONDS * 1000)
    return null
  }
  const token: CachedToken = {
    id: row.id,
    accountId: row.accountId,
    login: row.login,
    twoFactorEnabled: row.twoFactorEnabled,
    twoFactorRequiredBy: row.twoFactorRequiredBy?.getTime() ?? null,
    // Cached too, so a locked account's PAT costs no Postgres read per call.
    locked: row.locked,
    apiList: row.apiList,
    expiresAt,
  }
  const ttlMs = Math.min(config.TOKEN_CACHE_SECONDS * 1000, (token.expiresAt ?? Infinity) - nowMs)
  // This path reads Postgres anyway; writing the use here makes it visible to GetTokens at once.
  // A locked account's token is not being used: its refusals are not recorded as uses.
  await Promise.all([
    stores.tokenCache.put(digest, token, ttlMs),
    token.locked ? undefined : recordUse(services, token.id, nowMs, origin.ip),
  ])
  return token
}

/** A failed last-use write must not fail the call it describes. */
function recordUse(services: Services, tokenId: string, atMs: number, ip: string): Promise<void> {
  return services.stores.tokens
    .recordUse(tokenId, new Date(atMs), ip)
    .catch((err: unknown) => services.log.warn({ err, tokenId }, 'could not record token use'))
}
