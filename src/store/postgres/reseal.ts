/**
 * Key rotation: re-seals every TOTP secret and recovery code still under an older key with the
 * current one (the first in SECRETS_KEY). One loop serves both tables.
 */
import type { SecretBox, Sealed } from '../../crypto/secret-box.js'
import type { PrismaClient } from '../../../generated/prisma/client.js'
import { recoveryAad, toBuffer, toBytes, totpAad } from './shared.js'

const resealBatch = 200

/** One table of sealed values, as the re-seal loop walks it. */
interface SealedTable<Row> {
  name: string
  /** Up to `take` rows not under `current`, in primary-key order after `after`. */
  page(current: string, after: string | undefined, take: number): Promise<Row[]>
  id(row: Row): string
  sealed(row: Row): { keyId: string; cipher: Uint8Array }
  aad(row: Row): string
  /** Writes the new seal, guarded by the value just opened; returns the rows changed (0 or 1). */
  rewrite(row: Row, resealed: Sealed, plain: Buffer): Promise<number>
}

/** Re-seals the whole table; rows that will not open are listed in `unopenable`, not allowed to stop the others. */
async function resealTable<Row>(table: SealedTable<Row>, box: SecretBox, unopenable: string[]): Promise<number> {
  let rewritten = 0
  // Cursor by primary key: each row is visited once even if a writer with an older keyring races us.
  let after: string | undefined
  for (;;) {
    const rows = await table.page(box.currentKeyId, after, resealBatch)
    for (const row of rows) {
      const { keyId, cipher } = table.sealed(row)
      let plain: Buffer
      try {
        plain = box.open({ keyId, box: toBuffer(cipher) }, table.aad(row))
      } catch {
        unopenable.push(`${table.name} ${table.id(row)}`)
        continue
      }
      // A row changed meanwhile is left to its new writer.
      rewritten += await table.rewrite(row, box.seal(plain, table.aad(row)), plain)
    }
    const last = rows.at(-1)
    if (last === undefined) return rewritten
    after = table.id(last)
  }
}

/** Re-seals both tables; throws after the whole pass when some rows would not open. */
export async function resealAll(prisma: PrismaClient, box: SecretBox): Promise<number> {
  const secrets: SealedTable<{ accountId: string; secretKeyId: string; secretCipher: Uint8Array<ArrayBuffer> }> = {
    name: 'two_factor',
    page: (current, after, take) =>
      prisma.twoFactor.findMany({
        where: { secretKeyId: { not: current }, ...(after === undefined ? {} : { accountId: { gt: after } }) },
        orderBy: { accountId: 'asc' },
        take,
      }),
    id: (row) => row.accountId,
    sealed: (row) => ({ keyId: row.secretKeyId, cipher: row.secretCipher }),
    aad: (row) => totpAad(row.accountId),
    rewrite: async (row, resealed) =>
      (
        await prisma.twoFactor.updateMany({
          where: { accountId: row.accountId, secretKeyId: row.secretKeyId, secretCipher: row.secretCipher },
          data: { secretCipher: toBytes(resealed.box), secretKeyId: resealed.keyId },
        })
      ).count,
  }
  const codes: SealedTable<{ id: string; keyId: string; cipher: Uint8Array<ArrayBuffer> }> = {
    name: 'recovery_codes',
    page: (current, after, take) =>
      prisma.recoveryCode.findMany({
        where: { keyId: { not: current }, ...(after === undefined ? {} : { id: { gt: after } }) },
        orderBy: { id: 'asc' },
        take,
      }),
    id: (row) => row.id,
    sealed: (row) => ({ keyId: row.keyId, cipher: row.cipher }),
    aad: (row) => recoveryAad(row.id),
    rewrite: async (row, resealed, plain) =>
      (
        await prisma.recoveryCode.updateMany({
          where: { id: row.id, keyId: row.keyId, cipher: row.cipher },
          data: {
            cipher: toBytes(resealed.box),
            keyId: resealed.keyId,
            digest: toBytes(box.digest(plain.toString('utf8'))),
          },
        })
      ).count,
  }

  const unopenable: string[] = []
  const rewritten = (await resealTable(secrets, box, unopenable)) + (await resealTable(codes, box, unopenable))
  if (unopenable.length > 0) {
    const listed = unopenable.slice(0, 20).join(', ')
    throw new Error(
      `re-sealed ${rewritten} rows, but ${unopenable.length} would not open (tampered, or sealed under a key missing from SECRETS_KEY): ${listed}`,
    )
  }
  return rewritten
}
