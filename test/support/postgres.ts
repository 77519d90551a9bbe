/**
 * Throwaway databases for tests: a fresh database on the test server per call (dropped at the
 * end), or an in-memory PGlite. Both come migrated, through the same code the service runs.
 */
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import { openPGliteDatabase, openPrisma, type OpenedPrisma } from '../../src/store/postgres/client.js'
import { applyMigrations, packageRoot, pgliteExecutor, readMigrations } from '../../src/store/postgres/migrate.js'

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

/**
 * CREATE DATABASE <stem>_<random>; `drop` removes it even if connections are still open. The
 * benchmark asks for durable commits, as production has; tests need not wait for the disk.
 */
export async function createTestDatabase(
  options: { stem?: string; durable?: boolean } = {},
): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `${options.stem ?? 'latchkey_test'}_${randomBytes(6).toString('hex')}`
  await asAdmin(`CREATE DATABASE "${name}"`)
  if (options.durable !== true) await asAdmin(`ALTER DATABASE "${name}" SET synchronous_commit = off`)
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return { url: url.toString(), name, drop: () => asAdmin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) }
}

export interface TestPrisma extends OpenedPrisma {
  /** The database URL (postgres) or null (in-memory PGlite). */
  url: string | null
}

/**
 * Starting a PGlite runs initdb (seconds); loading a dump of an already-migrated one is several
 * times faster. The dump is cached in the temp folder, keyed by PGlite's package.json and the
 * migrations, so a changed migration or an upgrade builds a new one.
 */
async function migratedPGlite(): Promise<PGlite> {
  const version = readFileSync(
    join(packageRoot(fileURLToPath(import.meta.resolve('@electric-sql/pglite'))), 'package.json'),
    'utf8',
  )
  const key = createHash('sha256')
    .update(version)
    .update(
      readMigrations()
        .map((m) => `${m.name}:${m.checksum}`)
        .join(),
    )
    .digest('hex')
    .slice(0, 16)
  const file = join(tmpdir(), `latchkey-pglite-template-${key}.tar`)
  if (existsSync(file)) {
    try {
      const db = new PGlite({ loadDataDir: new Blob([readFileSync(file)]) })
      await db.waitReady
      return db
    } catch {
      // An unreadable template is rebuilt below.
    }
  }
  const db = new PGlite()
  await applyMigrations(pgliteExecutor(db))
  const dump = Buffer.from(await (await db.dumpDataDir('none')).arrayBuffer())
  // Written aside then renamed, so a parallel test file never reads half a template.
  const partial = `${file}.${process.pid}.partial`
  writeFileSync(partial, dump)
  renameSync(partial, file)
  return db
}

/** A migrated Prisma client on a fresh database; `close` also drops the database. */
export async function openTestPrisma(kind: TestDatabaseKind = 'postgres'): Promise<TestPrisma> {
  if (kind === 'pglite') {
    const opened = await openPGliteDatabase(await migratedPGlite(), 'memory://')
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
