import { randomUUID } from 'node:crypto'
import { AppError } from '../errors.js'
import { credentialDigest, newSessionCredential } from '../domain/credentials.js'
import type { Services } from '../services.js'
import type { Origin } from '../rpc/define-method.js'

export interface IssuedSession {
  session: string
  expiresAt: string
}

export const accountLocked = () =>
  new AppError('FORBIDDEN', 'This account is locked by an operator; contact support.', { locked: true })

/**
 * A full session: the credential goes to the client once; Redis keeps only its digest.
 *
 * The session is written first and `decisive` (the Postgres write that the session pays for: an
 * audit event, a spent code) last: if that fails, the session is removed again and nothing is
 * spent; once it has committed, nothing else can fail the call. `decisive` may refuse by throwing.
 *
 * Between the two, the account's state is read in the statement that records the sign-in: an
 * operator's lock that commits before that read is seen here (the session is removed, nothing is
 * spent), and one that commits after it finds the session to end. The same read corrects a stale
 * copy of the 2FA deadline.
 */
export async function issueSession<T>(
  services: Services,
  account: { id: string; login: string; twoFactorEnabled: boolean; twoFactorRequiredBy: number | null },
  origin: Origin,
  now: Date,
  decisive: () => Promise<T>,
): Promise<IssuedSession & { decided: T }> {
  const { config, stores, log } = services
  const credential = newSessionCredential()
  const digest = credentialDigest(credential)
  const nowMs = now.getTime()
  const idleMs = config.SESSION_IDLE_SECONDS * 1000
  const absoluteExpiresAt = nowMs + config.SESSION_ABSOLUTE_SECONDS * 1000
  const copiedRequiredBy = account.twoFactorRequiredBy
  await stores.sessions.create(
    digest,
    {
      id: randomUUID(),
      accountId: account.id,
      login: account.login,
      twoFactorEnabled: account.twoFactorEnabled,
      twoFactorRequiredBy: copiedRequiredBy,
      createdAt: nowMs,
      lastSeenAt: nowMs,
      absoluteExpiresAt,
      ...origin,
    },
    idleMs,
  )
  let decided: T
  try {
    const state = await stores.accounts.recordSignIn(account.id, now)
    if (state === null) throw new AppError('UNAUTHENTICATED', 'The account no longer exists.')
    if (state.locked) throw accountLocked()
    const requiredBy = state.twoFactorRequiredBy?.getTime() ?? null
    if (requiredBy !== copiedRequiredBy) await stores.sessions.setTwoFactorRequiredBy(account.id, requiredBy)
    decided = await decisive()
  } catch (error) {
    await stores.sessions
      .remove(account.id, digest)
      .catch((err: unknown) => log.error({ err }, 'could not remove a session whose sign-in failed'))
    throw error
  }
  return {
    session: credential,
    expiresAt: new Date(Math.min(nowMs + idleMs, absoluteExpiresAt)).toISOString(),
    decided,
  }
}
