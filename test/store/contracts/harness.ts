/**
 * What every Postgres-port contract suite runs against: the stores over a fresh, migrated
 * database of one kind (a new database on the test server, or an in-memory PGlite).
 */
import { randomBytes } from 'node:crypto'
import { generateKeyMaterial, parseKeyring } from '../../../src/crypto/keyring.js'
import { createSecretBox, type SecretBox } from '../../../src/crypto/secret-box.js'
import type { PrismaClient } from '../../../generated/prisma/client.js'
import { openPostgresStores, type PostgresStores } from '../../../src/store/postgres/index.js'
import type { AccountRecord, AuditEntry, AuditType } from '../../../src/store/ports/index.js'
import type { Adapter } from '../../support/contract.js'
import { openTestPrisma, type TestDatabaseKind } from '../../support/postgres.js'

export interface Harness {
  kind: TestDatabaseKind
  prisma: PrismaClient
  box: SecretBox
  /** SECRETS_KEY the box was made from, for rotation tests. */
  keyMaterial: string
  stores: PostgresStores
  /** A new account with a random login. */
  newAccount(): Promise<AccountRecord>
  auditCount(accountId: string, type?: AuditType): Promise<number>
}

export const kinds: readonly TestDatabaseKind[] = ['postgres', 'pglite']

export function entry(type: AuditType, detail?: AuditEntry['detail']): AuditEntry {
  return { type, ip: '203.0.113.7', userAgent: 'contract-test', ...(detail === undefined ? {} : { detail }) }
}

/** Postgres refuses NUL in text, so this audit row fails to insert *after* the change ran in its transaction. */
export function failingEntry(type: AuditType): AuditEntry {
  return { type, ip: null, userAgent: 'bad\u0000agent' }
}

export function randomLogin(): string {
  return `user-${randomBytes(6).toString('hex')}`
}

/** The Postgres stores over each database kind, each on its own database, opened before and dropped after. */
export const postgresAdapters: readonly Adapter<Harness>[] = kinds.map((kind) => ({
  name: kind,
  async open() {
    const opened = await openTestPrisma(kind)
    const keyMaterial = generateKeyMaterial()
    const box = createSecretBox(parseKeyring(keyMaterial))
    const stores = openPostgresStores(opened.prisma, box)
    const subject: Harness = {
      kind,
      prisma: opened.prisma,
      box,
      keyMaterial,
      stores,
      newAccount: () =>
        stores.accounts.create({ login: randomLogin(), email: null, passwordHash: 'hash' }, entry('signup')),
      auditCount: (accountId, type) =>
        opened.prisma.auditEvent.count({ where: { accountId, ...(type === undefined ? {} : { type }) } }),
    }
    return { subject, close: () => opened.close() }
  },
}))
