import { randomUUID } from 'node:crypto'
import { AppError } from '../../errors.js'
import { canonicalLogin } from '../../domain/logins.js'
import type { Prisma, PrismaClient } from '../../../generated/prisma/client.js'
import type { AccountListQuery, AccountRecord, AccountStore, AuditEntry } from '../ports/index.js'
import { guarded, isUniqueViolation } from './errors.js'
import { auditRow, isUuid } from './shared.js'

const accountFields = {
  id: true,
  login: true,
  email: true,
  passwordHash: true,
  createdAt: true,
  lockedAt: true,
  twoFactorRequiredBy: true,
  lastSignInAt: true,
  twoFactor: { select: { accountId: true } },
} as const

interface AccountRow {
  id: string
  login: string
  email: string | null
  passwordHash: string
  createdAt: Date
  lockedAt: Date | null
  twoFactorRequiredBy: Date | null
  lastSignInAt: Date | null
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
    lockedAt: row.lockedAt,
    twoFactorRequiredBy: row.twoFactorRequiredBy,
    lastSignInAt: row.lastSignInAt,
  }
}

const noAccount = () => new AppError('NOT_FOUND', 'No such account.')

function listFilter(query: AccountListQuery): Prisma.AccountWhereInput {
  const login: Prisma.StringFilter = {
    // Prisma hands startsWith to LIKE as it is: _ and % would be wildcards.
    ...(query.loginPrefix === undefined ? {} : { startsWith: query.loginPrefix.replace(/[\\%_]/g, '\\$&') }),
    ...(query.after === undefined ? {} : { gt: query.after }),
  }
  const twoFactor: Prisma.AccountWhereInput =
    query.twoFactor === 'on'
      ? { twoFactor: { isNot: null } }
      : query.twoFactor === 'off'
        ? { twoFactor: { is: null } }
        : query.twoFactor === 'overdue'
          ? { twoFactor: { is: null }, twoFactorRequiredBy: { lte: query.now } }
          : {}
  return { login, ...twoFactor }
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
          if (count === 0) throw noAccount()
          await tx.auditEvent.create({ data: auditRow(accountId, audit) })
        })
      }),

    recordSignIn: (accountId, now) =>
      guarded(async () => {
        if (!isUuid(accountId)) return null
        // One statement: the state returned is the one in force when this sign-in was recorded.
        const rows = await prisma.$queryRaw<Array<{ locked_at: Date | null; two_factor_required_by: Date | null }>>`
          UPDATE accounts SET last_sign_in_at = ${now} WHERE id = ${accountId}::uuid
          RETURNING locked_at, two_factor_required_by`
        const [row] = rows
        return row === undefined
          ? null
          : { locked: row.locked_at !== null, twoFactorRequiredBy: row.two_factor_required_by }
      }),

    setLocked: (accountId, locked, audit, now) =>
      guarded(async () => {
        if (!isUuid(accountId)) throw noAccount()
        await prisma.$transaction(async (tx) => {
          // A repeated lock keeps the time of the first.
          const { count } = await tx.account.updateMany({
            where: locked ? { id: accountId, lockedAt: null } : { id: accountId },
            data: { lockedAt: locked ? now : null },
          })
          if (count === 0 && (await tx.account.count({ where: { id: accountId } })) === 0) throw noAccount()
          await tx.auditEvent.create({ data: auditRow(accountId, audit, now) })
        })
      }),

    setTwoFactorRequiredBy: (accountId, requiredBy, audit, now) =>
      guarded(async () => {
        if (!isUuid(accountId)) throw noAccount()
        await prisma.$transaction(async (tx) => {
          const { count } = await tx.account.updateMany({
            where: { id: accountId },
            data: { twoFactorRequiredBy: requiredBy },
          })
          if (count === 0) throw noAccount()
          await tx.auditEvent.create({ data: auditRow(accountId, audit, now) })
        })
      }),

    list: (query) =>
      guarded(async () => {
        const rows = await prisma.account.findMany({
          where: listFilter(query),
          // login is unique, so this order is total and the keyset cursor neither skips nor repeats.
          orderBy: { login: 'asc' },
          take: query.limit,
          select: accountFields,
        })
        return rows.map((row) => ({
          id: row.id,
          login: row.login,
          createdAt: row.createdAt,
          twoFactorEnabled: row.twoFactor !== null,
          twoFactorRequiredBy: row.twoFactorRequiredBy,
          locked: row.lockedAt !== null,
        }))
      }),
  }
}
