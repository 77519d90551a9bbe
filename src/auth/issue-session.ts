import { randomUUID } from 'node:crypto'
import { credentialDigest, newSessionCredential } from '../domain/credentials.js'
import type { Services } from '../services.js'
import type { Origin } from '../rpc/define-method.js'

export interface IssuedSession {
  session: string
  expiresAt: string
}

/** A full session: the credential goes to the client once; Redis keeps only its digest. */
export async function issueSession(
  services: Services,
  account: { id: string; login: string; twoFactorEnabled: boolean },
  origin: Origin,
  now: Date,
): Promise<IssuedSession> {
  const { config, stores } = services
  const credential = newSessionCredential()
  const nowMs = now.getTime()
  const idleMs = config.SESSION_IDLE_SECONDS * 1000
  const absoluteExpiresAt = nowMs + config.SESSION_ABSOLUTE_SECONDS * 1000
  await stores.sessions.create(
    credentialDigest(credential),
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
  return { session: credential, expiresAt: new Date(Math.min(nowMs + idleMs, absoluteExpiresAt)).toISOString() }
}
