import { randomUUID } from 'node:crypto'
import { AppError } from '../../errors.js'
import { canonicalLogin } from '../../domain/logins.js'
import type { PrismaClient } from '../../../generated/prisma/client.js'
import type { AccountRecord, AccountStore, AuditEntry } from '../ports/index.js'
import { guarded, isUniqueViolation } from './errors.js'
import { auditRow, isUuid } from './shared.js'

const accountFields = {
  id: true,
  login: true,
  email: true,
  passwordHash: true,
  createdAt: true,
  twoFactor: { select: { accountId: true } },
} as const

interface AccountRow {
  id: string
  login: string
  email: string | null
  passwordHash: string
  createdAt: Date
  twoFactor: { accountId: string } | null
}

function toRecord(row: AccountRow): AccountRecord {
  return {
    id: row.id,
    login: row.login,
    email: row.email,
    passwordHash: row.passwordHash,
    createdAt: row.createdAt,
    twoFactorEnabled: row.twoFactor !== null,
  }
}

export function createAccountStore(prisma: PrismaClient): AccountStore {
  return {
    create: (input, audit: AuditEntry) =>
      guarded(async () => {
        // The id is chosen here so the account and its audit row go in one batch transaction.
        const id = randomUUID()
        const login = canonicalLogin(input.login)
        try {
          const [row] = await prisma.$transaction([
            prisma.account.create({
              data: { id, login, email: input.email, passwordHash: input.passwordHash },
              select: accountFields,
            }),
            prisma.auditEvent.create({ data: auditRow(id, audit) }),
          ])
          return toRecord(row)
        } catch (error) {
          if (isUniqueViolation(error, { columns: ['login'], index: 'accounts_login_key' }))
            throw new AppError('CONFLICT', 'That login is taken.')
          throw error
        }
      }),

    findByLogin: (login) =>
      guarded(async () => {
        const row = await prisma.account.findUnique({ where: { login: canonicalLogin(login) }, select: accountFields })
        return row === null ? null : toRecord(row)
      }),

    findById: (id) =>
      guarded(async () => {
        if (!isUuid(id)) return null
        const row = await prisma.account.findUnique({ where: { id }, select: accountFields })
        return row === null ? null : toRecord(row)
      }),

    changePassword: (accountId, passwordHash, audit, now) =>
      guarded(async () => {
        if (!isUuid(accountId)) throw new AppError('NOT_FOUND', 'No such account.')
        await prisma.$transaction(async (tx) => {
          const { count } = await tx.account.updateMany({
            where: { id: accountId },
            data: { passwordHash, passwordChangedAt: now },
          })
          if (count === 0) throw new AppError('NOT_FOUND', 'No such account.')
          await tx.auditEvent.create({ data: auditRow(accountId, audit) })
        })
      }),
  }
}
