/**
 * Throwaway databases for tests: a fresh database on the test server per call (dropped at the
 * end), or an in-memory PGlite. Both come migrated, through the same code the service runs.
 */
import { randomBytes } from 'node:crypto'
import { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import { openPGliteDatabase, openPrisma, type OpenedPrisma } from '../../src/store/postgres/client.js'

/** An admin connection to a server the tests may create databases on. */
export const adminUrl = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres'

export type TestDatabaseKind = 'postgres' | 'pglite'

async function asAdmin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

/** CREATE DATABASE latchkey_test_<random>; `drop` removes it even if connections are still open. */
export async function createTestDatabase(): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `latchkey_test_${randomBytes(6).toString('hex')}`
  await asAdmin(`CREATE DATABASE "${name}"`)
  // A throwaway database need not wait for each commit to reach the disk.
  await asAdmin(`ALTER DATABASE "${name}" SET synchronous_commit = off`)
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return { url: url.toString(), name, drop: () => asAdmin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) }
}

export interface TestPrisma extends OpenedPrisma {
  /** The database URL (postgres) or null (in-memory PGlite). */
  url: string | null
}

/** A migrated Prisma client on a fresh database; `close` also drops the database. */
export async function openTestPrisma(kind: TestDatabaseKind = 'postgres'): Promise<TestPrisma> {
  if (kind === 'pglite') {
    const opened = await openPGliteDatabase(new PGlite(), 'memory://')
    return { ...opened, url: null }
  }
  const database = await createTestDatabase()
  try {
    const opened = await openPrisma({ databaseUrl: database.url, dataDir: '' })
    return {
      ...opened,
      url: database.url,
      async close() {
        try {
          await opened.close()
        } finally {
          await database.drop()
        }
      },
    }
  } catch (error) {
    await database.drop()
    throw error
  }
}
