import { credentialDigest, newPendingCredential } from '../domain/credentials.js'
import type { Services } from '../services.js'

export interface PendingSignIn {
  accountId: string
  login: string
}

/** Password accepted, second factor still to come: an lk2_ token that only Verify2FACode takes. */
export async function startPendingSignIn(services: Services, account: { id: string; login: string }, now: Date) {
  const { config, stores } = services
  const token = newPendingCredential()
  const ttlMs = config.TWO_FACTOR_PENDING_SECONDS * 1000
  const pending: PendingSignIn = { accountId: account.id, login: account.login }
  await stores.pendingSignIns.put(
    credentialDigest(token),
    JSON.stringify(pending),
    config.TWO_FACTOR_PENDING_ATTEMPTS,
    ttlMs,
  )
  return {
    twoFactorRequired: true as const,
    twoFactorToken: token,
    expiresAt: new Date(now.getTime() + ttlMs).toISOString(),
    methods: ['totp' as const, 'recovery' as const],
  }
}
