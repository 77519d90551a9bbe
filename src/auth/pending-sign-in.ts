import { credentialDigest, newPendingCredential } from '../domain/credentials.js'
import type { Services } from '../services.js'

export interface PendingSignIn {
  accountId: string
  login: string
}

/**
 * Password accepted, second factor still to come: an lk2_ token that only Verify2FACode takes.
 * As with sessions, the token is written first and `decisive` (its audit event) last; if that
 * fails the token is dropped again.
 */
export async function startPendingSignIn(
  services: Services,
  account: { id: string; login: string },
  now: Date,
  decisive: () => Promise<void>,
) {
  const { config, stores, log } = services
  const token = newPendingCredential()
  const digest = credentialDigest(token)
  const ttlMs = config.TWO_FACTOR_PENDING_SECONDS * 1000
  const pending: PendingSignIn = { accountId: account.id, login: account.login }
  await stores.pendingSignIns.put(digest, JSON.stringify(pending), config.TWO_FACTOR_PENDING_ATTEMPTS, ttlMs)
  try {
    await decisive()
  } catch (error) {
    await stores.pendingSignIns
      .take(digest)
      .catch((err: unknown) => log.error({ err }, 'could not drop a pending sign-in whose audit failed'))
    throw error
  }
  return {
    twoFactorRequired: true as const,
    twoFactorToken: token,
    expiresAt: new Date(now.getTime() + ttlMs).toISOString(),
    methods: ['totp' as const, 'recovery' as const],
  }
}
