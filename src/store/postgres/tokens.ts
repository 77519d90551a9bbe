import { randomUUID } from 'node:crypto'
import { AppError } from '../../errors.js'
import type { Digest } from '../../domain/credentials.js'
import type { Prisma, PrismaClient } from '../../../generated/prisma/client.js'
import type { TokenRecord, TokenStore } from '../ports/index.js'
import { guarded } from './errors.js'
import { auditRow, isUuid, toBuffer, toBytes } from './shared.js'

interface TokenRow {
  id: string
  accountId: string
  digest: Uint8Array
  description: string
  apiList: string[]
  allMethods: boolean
  hint: string
  createdAt: Date
  expiresAt: Date | null
  lastUsedAt: Date | null
  lastUsedIp: string | null
}

// The column is bytea; the ports speak hex digests, converted here and nowhere else.
const digestColumn = (digest: Digest) => toBytes(Buffer.from(digest, 'hex'))
const digestOf = (column: Uint8Array) => toBuffer(column).toString('hex') as Digest

function toRecord(row: TokenRow): TokenRecord {
  return {
    id: row.id,
    accountId: row.accountId,
    description: row.description,
    apiList: row.allMethods ? null : row.apiList,
    hint: row.hint,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    lastUsedAt: row.lastUsedAt,
    lastUsedIp: row.lastUsedIp,
  }
}

// A Prisma list column cannot be null, so "every method" is its own flag.
function apiListColumns(apiList: string[] | null): { apiList: string[]; allMethods: boolean } {
  return apiList === null ? { apiList: [], allMethods: true } : { apiList, allMethods: false }
}

export function createTokenStore(prisma: PrismaClient): TokenStore {
  return {
    create: (input, maxPerAccount, audit) =>
      guarded(async () => {
        const id = randomUUID()
        const row = await prisma.$transaction(async (tx) => {
          // Locking the account row serialises creates per account, so the count below cannot be
          // raced past the cap by parallel creates (each waits, then counts the committed rows).
          const owner = await tx.$queryRaw<
            Array<{ id: string }>
          >`SELECT id FROM accounts WHERE id = ${input.accountId}::uuid FOR UPDATE`
          if (owner.length === 0) throw new AppError('NOT_FOUND', 'No such account.')
          const count = await tx.accessToken.count({ where: { accountId: input.accountId } })
          if (count >= maxPerAccount)
            throw new AppError('CONFLICT', `An account may have at most ${maxPerAccount} tokens; delete one first.`)
          const created = await tx.accessToken.create({
            data: {
              id,
              accountId: input.accountId,
              digest: digestColumn(input.digest),
              description: input.description,
              ...apiListColumns(input.apiList),
              hint: input.hint,
              expiresAt: input.expiresAt,
            },
          })
          await tx.auditEvent.create({ data: auditRow(input.accountId, audit, undefined, { tokenId: id }) })
          return created
        })
        return toRecord(row)
      }),

    list: (accountId) =>
      guarded(async () => {
        if (!isUuid(accountId)) return []
        const rows = await prisma.accessToken.findMany({
          where: { accountId },
          orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        })
        return rows.map((row) => ({ ...toRecord(row), digest: digestOf(row.digest) }))
      }),

    findByDigest: (digest) =>
      guarded(async () => {
        const row = await prisma.accessToken.findUnique({
          where: { digest: digestColumn(digest) },
          include: {
            account: {
              select: {
                login: true,
                lockedAt: true,
                twoFactorRequiredBy: true,
                twoFactor: { select: { accountId: true } },
              },
            },
          },
        })
        if (row === null) return null
        const { account } = row
        return {
          ...toRecord(row),
          login: account.login,
          twoFactorEnabled: account.twoFactor !== null,
          twoFactorRequiredBy: account.twoFactorRequiredBy,
          locked: account.lockedAt !== null,
        }
      }),

    update: (accountId, id, changes, audit) =>
      guarded(async () => {
        if (!isUuid(accountId) || !isUuid(id)) return null
        const data: Prisma.AccessTokenUpdateManyMutationInput = {
          ...(changes.description === undefined ? {} : { description: changes.description }),
          ...(changes.apiList === undefined ? {} : apiListColumns(changes.apiList)),
          ...(changes.expiresAt === undefined ? {} : { expiresAt: changes.expiresAt }),
        }
        return prisma.$transaction(async (tx) => {
          const { count } = await tx.accessToken.updateMany({ where: { id, accountId }, data })
          if (count === 0) return null
          const row = await tx.accessToken.findUniqueOrThrow({ where: { id } })
          await tx.auditEvent.create({ data: auditRow(accountId, audit, undefined, { tokenId: id }) })
          return { token: toRecord(row), digest: digestOf(row.digest) }
        })
      }),

    replaceDigest: (accountId, id, digest, hint, audit) =>
      guarded(async () => {
        if (!isUuid(accountId) || !isUuid(id)) return null
        return prisma.$transaction(async (tx) => {
          // The row lock makes the digest read here the one being replaced, even against a concurrent regenerate.
          const old = await tx.$queryRaw<Array<{ digest: Uint8Array }>>`
            SELECT digest FROM access_tokens WHERE id = ${id}::uuid AND account_id = ${accountId}::uuid FOR UPDATE`
          const [found] = old
          if (found === undefined) return null
          await tx.accessToken.update({ where: { id }, data: { digest: digestColumn(digest), hint } })
          await tx.auditEvent.create({ data: auditRow(accountId, audit, undefined, { tokenId: id }) })
          return { oldDigest: digestOf(found.digest) }
        })
      }),

    delete: (accountId, ids, audit) =>
      guarded(async () => {
        if (!isUuid(accountId)) return []
        const wanted = ids === '*' ? null : ids.filter(isUuid)
        if (wanted !== null && wanted.length === 0) return []
        return prisma.$transaction(async (tx) => {
          // DELETE … RETURNING: the digests handed back (for cache eviction) are exactly the rows removed.
          const removed =
            wanted === null
              ? await tx.$queryRaw<
                  Array<{ digest: Uint8Array }>
                >`DELETE FROM access_tokens WHERE account_id = ${accountId}::uuid RETURNING digest`
              : await tx.$queryRaw<Array<{ digest: Uint8Array }>>`
                  DELETE FROM access_tokens WHERE account_id = ${accountId}::uuid AND id = ANY(${wanted}::uuid[]) RETURNING digest`
          if (removed.length > 0)
            await tx.auditEvent.create({ data: auditRow(accountId, audit, undefined, { count: removed.length }) })
          return removed.map((row) => digestOf(row.digest))
        })
      }),

    deleteAllAudited: (accountId, audit) =>
      guarded(async () => {
        if (!isUuid(accountId)) return []
        return prisma.$transaction(async (tx) => {
          const removed = await tx.$queryRaw<
            Array<{ digest: Uint8Array }>
          >`DELETE FROM access_tokens WHERE account_id = ${accountId}::uuid RETURNING digest`
          await tx.auditEvent.create({ data: auditRow(accountId, audit) })
          return removed.map((row) => digestOf(row.digest))
        })
      }),

    recordUse: (id, at, ip) =>
      guarded(async () => {
        if (!isUuid(id)) return
        // Uses are flushed from several instances out of order; only ever move forward.
        await prisma.accessToken.updateMany({
          where: { id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: at } }] },
          data: { lastUsedAt: at, lastUsedIp: ip },
        })
      }),
  }
}
