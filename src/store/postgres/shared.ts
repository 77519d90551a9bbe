import type { AuditEntry } from '../ports/index.js'
import type { Prisma } from '../../../generated/prisma/client.js'

export type Tx = Prisma.TransactionClient

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Ids come from callers (EditToken's `id`); a malformed one is "no such row", not a database error. */
export function isUuid(value: string): boolean {
  return uuidPattern.test(value)
}

/** Prisma 7 takes bytea as a Uint8Array over a plain ArrayBuffer; a Buffer may sit in Node's shared pool. */
export function toBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes)
}

/** Prisma 7 hands bytea out as Uint8Array; the ports speak Buffer. No copy. */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

// Associated data binds each sealed value to its row: a ciphertext copied elsewhere does not open.
export const totpAad = (accountId: string) => `totp:${accountId}`
export const recoveryAad = (rowId: string) => `recovery:${rowId}`

/** The audit row for a change, written by the caller inside the change's transaction. */
export function auditRow(
  accountId: string | null,
  entry: AuditEntry,
  at?: Date,
  extraDetail?: Record<string, string | number | boolean | null>,
): Prisma.AuditEventUncheckedCreateInput {
  const detail = extraDetail === undefined ? entry.detail : { ...extraDetail, ...entry.detail }
  return {
    accountId,
    type: entry.type,
    ip: entry.ip,
    userAgent: entry.userAgent,
    ...(at === undefined ? {} : { at }),
    ...(detail === undefined ? {} : { detail }),
  }
}
