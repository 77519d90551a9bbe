import type { Prisma, PrismaClient } from '../../../generated/prisma/client.js'
import { isAuditType } from '../../domain/audit-events.js'
import type { AuditEntry, AuditEvent, AuditStore } from '../ports/index.js'
import { guarded } from './errors.js'
import { auditRow, isUuid } from './shared.js'

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
