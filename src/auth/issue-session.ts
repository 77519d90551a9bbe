import { randomUUID } from 'node:crypto'
import { credentialDigest, newSessionCredential } from '../domain/credentials.js'
import type { Services } from '../services.js'
import type { Origin } from '../rpc/define-method.js'

export interface IssuedSession {
  session: string
  expiresAt: string
}

/**
 * A full session: the credential goes to the client once; Redis keeps only its digest.
 *
 * The session is written first and `decisive` (the Postgres write that the session pays for: an
 * audit event, a spent code) last: if that fails, the session is removed again and nothing is
 * spent; once it has committed, nothing else can fail the call. `decisive` may refuse by throwing.
 */
export async function issueSession<T>(
  services: Services,
  account: { id: string; login: string; twoFactorEnabled: boolean },
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
  await stores.sessions.create(
    digest,
    {
      id: randomUUID(),
      accountId: account.id,
      login: account.login,
      twoFactorEnabled: account.twoFactorEnabled,
      createdAt: nowMs,
      lastSeenAt: nowMs,
      absoluteExpiresAt,
      ...origin,
    },
    idleMs,
  )
  let decided: T
  try {
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
