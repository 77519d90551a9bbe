import type { Prisma, PrismaClient } from '../../../generated/prisma/client.js'
import type { AuditEntry, AuditEvent, AuditStore, AuditType } from '../ports/index.js'
import { guarded } from './errors.js'
import { auditRow, isUuid } from './shared.js'

// A Record so the compiler flags a type added to AuditType but not here.
const knownTypes: Record<AuditType, true> = {
  signup: true,
  'signin.success': true,
  'signin.failure': true,
  '2fa.success': true,
  '2fa.failure': true,
  'recovery.used': true,
  '2fa.enabled': true,
  '2fa.disabled': true,
  'recovery.regenerated': true,
  'password.changed': true,
  'token.created': true,
  'token.edited': true,
  'token.regenerated': true,
  'token.deleted': true,
  signout: true,
  'sessions.revoked': true,
}

function isAuditType(value: string): value is AuditType {
  return Object.hasOwn(knownTypes, value)
}

type Detail = NonNullable<AuditEntry['detail']>

function toDetail(value: Prisma.JsonValue | null): Detail | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  const detail: Detail = {}
  for (const [key, item] of Object.entries(value)) {
    if (item === null || typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean')
      detail[key] = item
  }
  return detail
}

export function createAuditStore(prisma: PrismaClient): AuditStore {
  return {
    record: (accountId, entry, now) =>
      guarded(async () => {
        await prisma.auditEvent.create({ data: auditRow(accountId, entry, now) })
      }),

    list: (accountId, limit) =>
      guarded(async () => {
        if (!isUuid(accountId) || limit <= 0) return []
        const rows = await prisma.auditEvent.findMany({
          where: { accountId },
          // id breaks ties between events of the same millisecond, newest first.
          orderBy: [{ at: 'desc' }, { id: 'desc' }],
          take: limit,
        })
        const events: AuditEvent[] = []
        for (const row of rows) {
          // A type this build does not know was written by a newer one (rolling deploy): skip it.
          if (!isAuditType(row.type)) continue
          const detail = toDetail(row.detail)
          events.push({
            type: row.type,
            at: row.at,
            ip: row.ip,
            userAgent: row.userAgent,
            ...(detail === undefined ? {} : { detail }),
          })
        }
        return events
      }),
  }
}
