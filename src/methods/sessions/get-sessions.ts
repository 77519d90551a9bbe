import { Type } from '@sinclair/typebox'
import { defineMethod } from '../../rpc/define-method.js'
import { Empty, Nullable, Timestamp, Uuid, iso } from '../schemas.js'

export const getSessions = defineMethod({
  name: 'GetSessions',
  summary: "The account's live sessions; `current` marks the calling one.",
  auth: 'session',
  sensitive: false,
  params: Empty,
  result: Type.Object({
    sessions: Type.Array(
      Type.Object({
        id: Uuid,
        createdAt: Timestamp,
        lastSeenAt: Timestamp,
        expiresAt: Timestamp,
        ip: Nullable(Type.String()),
        userAgent: Nullable(Type.String()),
        current: Type.Boolean(),
      }),
    ),
  }),
  errors: [],
  async handle({ caller, services, now }) {
    const idleMs = services.config.SESSION_IDLE_SECONDS * 1000
    const sessions = await services.stores.sessions.list(caller.accountId, now.getTime())
    return {
      sessions: sessions
        .sort((a, b) => b.lastSeenAt - a.lastSeenAt)
        .map((s) => ({
          id: s.id,
          createdAt: iso(s.createdAt),
          lastSeenAt: iso(s.lastSeenAt),
          expiresAt: iso(Math.min(s.lastSeenAt + idleMs, s.absoluteExpiresAt)),
          ip: s.ip,
          userAgent: s.userAgent,
          current: s.id === caller.sessionId,
        })),
    }
  },
})
