import { randomUUID } from 'node:crypto'
import { AppError } from '../../errors.js'
import type { SecretBox } from '../../crypto/secret-box.js'
import type { PrismaClient } from '../../../generated/prisma/client.js'
import type { AuditEntry, TwoFactorStore } from '../ports/index.js'
import { guarded, isUniqueViolation } from './errors.js'
import { resealAll } from './reseal.js'
import { auditRow, isUuid, recoveryAad, toBuffer, toBytes, totpAad, type Tx } from './shared.js'

function notOn(): AppError {
  return new AppError('CONFLICT', 'Two-factor authentication is not on.')
}

export function createTwoFactorStore(prisma: PrismaClient, box: SecretBox): TwoFactorStore {
  function recoveryRows(accountId: string, codes: string[], now?: Date) {
    return codes.map((code, position) => {
      const id = randomUUID()
      const sealed = box.seal(Buffer.from(code, 'utf8'), recoveryAad(id))
      return {
        id,
        accountId,
        position,
        digest: toBytes(box.digest(code)),
        cipher: toBytes(sealed.box),
        keyId: sealed.keyId,
        ...(now === undefined ? {} : { createdAt: now }),
      }
    })
  }

  /** Locks the account's two_factor row for the transaction; false when 2FA is off. */
  async function lockTwoFactor(tx: Tx, accountId: string): Promise<boolean> {
    const rows = await tx.$queryRaw<
      Array<{ account_id: string }>
    >`SELECT account_id FROM two_factor WHERE account_id = ${accountId}::uuid FOR UPDATE`
    return rows.length > 0
  }

  return {
    status: (accountId) =>
      guarded(async () => {
        if (!isUuid(accountId)) return null
        const row = await prisma.twoFactor.findUnique({ where: { accountId }, select: { enabledAt: true } })
        if (row === null) return null
        const recoveryCodesLeft = await prisma.recoveryCode.count({ where: { accountId, usedAt: null } })
        return { enabledAt: row.enabledAt, recoveryCodesLeft }
      }),

    secret: (accountId) =>
      guarded(async () => {
        if (!isUuid(accountId)) return null
        const row = await prisma.twoFactor.findUnique({ where: { accountId } })
        if (row === null) return null
        const secret = box.open({ keyId: row.secretKeyId, box: toBuffer(row.secretCipher) }, totpAad(accountId))
        return { secret, lastStep: Number(row.lastStep) }
      }),

    enable: (accountId, secret, recoveryCodes, audit: AuditEntry, now, acceptedStep) =>
      guarded(async () => {
        const sealed = box.seal(secret, totpAad(accountId))
        try {
          // The primary key on two_factor.account_id decides between concurrent enables.
          await prisma.$transaction([
            prisma.twoFactor.create({
              data: {
                accountId,
                secretCipher: toBytes(sealed.box),
                secretKeyId: sealed.keyId,
                enabledAt: now,
                ...(acceptedStep === undefined ? {} : { lastStep: BigInt(acceptedStep) }),
              },
            }),
            // Nothing should be left from an earlier enrolment; if anything is, it must not stay valid.
            prisma.recoveryCode.deleteMany({ where: { accountId } }),
            prisma.recoveryCode.createMany({ data: recoveryRows(accountId, recoveryCodes, now) }),
            prisma.auditEvent.create({ data: auditRow(accountId, audit, now) }),
          ])
        } catch (error) {
          if (isUniqueViolation(error, { columns: ['account_id'], index: 'two_factor_pkey' }))
            throw new AppError('CONFLICT', 'Two-factor authentication is already on.')
          throw error
        }
      }),

    disable: (accountId, audit, options = {}) =>
      guarded(async () => {
        if (!isUuid(accountId)) throw notOn()
        await prisma.$transaction(async (tx) => {
          if (options.unlessRequired === true) {
            // FOR SHARE: a concurrent AdminRequire2FA (which updates the row) waits for us or we for it.
            const rows = await tx.$queryRaw<Array<{ required: boolean }>>`
              SELECT two_factor_required_by IS NOT NULL AS required FROM accounts WHERE id = ${accountId}::uuid FOR SHARE`
            if (rows[0]?.required === true)
              throw new AppError(
                'FORBIDDEN',
                'An operator requires two-factor sign-in for this account; it cannot be turned off.',
              )
          }
          const { count } = await tx.twoFactor.deleteMany({ where: { accountId } })
          if (count === 0) throw notOn()
          await tx.recoveryCode.deleteMany({ where: { accountId } })
          await tx.auditEvent.create({ data: auditRow(accountId, audit) })
        })
      }),

    acceptStep: (accountId, step, audit) =>
      guarded(async () => {
        if (!isUuid(accountId)) return false
        return prisma.$transaction(async (tx) => {
          // Guarded UPDATE: of concurrent callers with the same step, the row lock lets one through.
          const { count } = await tx.twoFactor.updateMany({
            where: { accountId, lastStep: { lt: BigInt(step) } },
            data: { lastStep: BigInt(step) },
          })
          if (count === 0) return false
          await tx.auditEvent.create({ data: auditRow(accountId, audit) })
          return true
        })
      }),

    useRecoveryCode: (accountId, code, audit, now) =>
      guarded(async () => {
        if (!isUuid(accountId)) return null
        return prisma.$transaction(async (tx) => {
          // Every key's digest, so codes not yet re-sealed after a rotation still match.
          const { count } = await tx.recoveryCode.updateMany({
            where: { accountId, digest: { in: box.digestsUnderAllKeys(code).map(toBytes) }, usedAt: null },
            data: { usedAt: now },
          })
          if (count === 0) return null
          const left = await tx.recoveryCode.count({ where: { accountId, usedAt: null } })
          await tx.auditEvent.create({ data: auditRow(accountId, audit, now, { recoveryCodesLeft: left }) })
          return left
        })
      }),

    hasUnusedRecoveryCode: (accountId, code) =>
      guarded(async () => {
        if (!isUuid(accountId)) return false
        const count = await prisma.recoveryCode.count({
          where: { accountId, digest: { in: box.digestsUnderAllKeys(code).map(toBytes) }, usedAt: null },
        })
        return count > 0
      }),

    recoveryCodes: (accountId) =>
      guarded(async () => {
        if (!isUuid(accountId)) throw notOn()
        const [on, rows] = await prisma.$transaction([
          prisma.twoFactor.count({ where: { accountId } }),
          prisma.recoveryCode.findMany({ where: { accountId }, orderBy: { position: 'asc' } }),
        ])
        if (on === 0) throw notOn()
        return rows.map((row) => ({
          code: box.open({ keyId: row.keyId, box: toBuffer(row.cipher) }, recoveryAad(row.id)).toString('utf8'),
          used: row.usedAt !== null,
        }))
      }),

    replaceRecoveryCodes: (accountId, recoveryCodes, audit) =>
      guarded(async () => {
        if (!isUuid(accountId)) throw notOn()
        const rows = recoveryRows(accountId, recoveryCodes)
        await prisma.$transaction(async (tx) => {
          // Holding the row keeps a concurrent Disable2FA from leaving codes behind for a 2FA-off account.
          if (!(await lockTwoFactor(tx, accountId))) throw notOn()
          await tx.recoveryCode.deleteMany({ where: { accountId } })
          await tx.recoveryCode.createMany({ data: rows })
          await tx.auditEvent.create({ data: auditRow(accountId, audit) })
        })
      }),

    resealAll: () => guarded(() => resealAll(prisma, box)),
  }
}
