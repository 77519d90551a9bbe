/**
 * applyMigrations keeps `prisma migrate deploy`'s books: same table, same checksums, one row per
 * applied migration; several instances starting at once migrate once; a failing migration leaves
 * nothing half-applied.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { cpSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import {
  applyMigrations,
  defaultMigrationsDir,
  packageRoot,
  pgExecutor,
  pgliteExecutor,
  readMigrations,
  type MigrationExecutor,
} from '../../src/store/postgres/migrate.js'
import { createTestDatabase } from '../support/postgres.js'

const migrations = readMigrations()

/** A copy of prisma/migrations plus extra migrations, in a temp folder. */
function migrationsWith(extra: Record<string, string>): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-migrations-'))
  cpSync(defaultMigrationsDir(), dir, { recursive: true })
  for (const [name, sql] of Object.entries(extra)) {
    mkdirSync(join(dir, name))
    writeFileSync(join(dir, name, 'migration.sql'), sql)
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

async function bookkeeping(executor: MigrationExecutor) {
  return executor.query(
    'SELECT migration_name, checksum, finished_at, logs, rolled_back_at, applied_steps_count FROM "_prisma_migrations" ORDER BY started_at, migration_name',
  )
}

test('the package root and migrations are found from src/ and from dist/src/', () => {
  const root = packageRoot()
  assert.equal(packageRoot(join(root, 'dist', 'src', 'store', 'postgres', 'migrate.js')), root)
  assert.equal(defaultMigrationsDir(), join(root, 'prisma', 'migrations'))
  assert.ok(migrations.length >= 1)
  for (const m of migrations) {
    assert.match(m.name, /^\d{14}_[a-z0-9_]+$/)
    assert.equal(
      m.checksum,
      createHash('sha256')
        .update(readFileSync(join(defaultMigrationsDir(), m.name, 'migration.sql')))
        .digest('hex'),
    )
  }
})

describe('on a Postgres server', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>
  let pool: pg.Pool
  before(async () => {
    database = await createTestDatabase()
    pool = new pg.Pool({ connectionString: database.url, max: 12 })
    // DROP … WITH (FORCE) at the end terminates any client still closing; that is expected here.
    pool.on('error', () => {})
  })
  after(async () => {
    await pool.end()
    await database.drop()
  })

  async function withClient<T>(work: (executor: MigrationExecutor) => Promise<T>): Promise<T> {
    const client = await pool.connect()
    try {
      return await work(pgExecutor(client))
    } finally {
      client.release()
    }
  }

  test('instances starting together migrate once: 6 parallel runs, each migration applied by exactly one', async () => {
    const reports = await Promise.all(
      Array.from({ length: 6 }, () => withClient((executor) => applyMigrations(executor))),
    )
    const applied = reports.flatMap((r) => r.applied)
    assert.deepEqual(
      applied,
      migrations.map((m) => m.name),
    )
    const rows = await withClient(bookkeeping)
    assert.equal(rows.length, migrations.length)
  })

  test('the books are Prisma\u2019s: table shape, checksum, one step, finished, no logs', async () => {
    const columns = await withClient((executor) =>
      executor.query(
        `SELECT column_name, data_type, character_maximum_length, is_nullable, column_default
         FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
      ),
    )
    assert.deepEqual(
      columns.map((c) => [c['column_name'], c['data_type'], c['character_maximum_length'], c['is_nullable']]),
      [
        ['id', 'character varying', 36, 'NO'],
        ['checksum', 'character varying', 64, 'NO'],
        ['finished_at', 'timestamp with time zone', null, 'YES'],
        ['migration_name', 'character varying', 255, 'NO'],
        ['logs', 'text', null, 'YES'],
        ['rolled_back_at', 'timestamp with time zone', null, 'YES'],
        ['started_at', 'timestamp with time zone', null, 'NO'],
        ['applied_steps_count', 'integer', null, 'NO'],
      ],
    )
    const rows = await withClient(bookkeeping)
    for (const [i, m] of migrations.entries()) {
      const row = rows[i]
      assert.equal(row?.['migration_name'], m.name)
      assert.equal(row?.['checksum'], m.checksum)
      assert.ok(row?.['finished_at'] instanceof Date)
      assert.equal(row?.['logs'], null)
      assert.equal(row?.['rolled_back_at'], null)
      assert.equal(row?.['applied_steps_count'], 1)
    }
  })

  test('running again applies nothing; an edited migration is reported, not re-run', async () => {
    assert.deepEqual(await withClient((executor) => applyMigrations(executor)), { applied: [], edited: [] })
    const first = migrations[0]
    assert.ok(first !== undefined)
    const edited = migrationsWith({})
    try {
      writeFileSync(join(edited.dir, first.name, 'migration.sql'), `${first.script}\n-- a comment added later\n`)
      assert.deepEqual(await withClient((executor) => applyMigrations(executor, { migrationsDir: edited.dir })), {
        applied: [],
        edited: [first.name],
      })
    } finally {
      edited.remove()
    }
  })

  test('a failing migration is rolled back whole, recorded as rolled back, and retried once fixed', async () => {
    const good = '29990101000000_add_notes'
    const bad = '29990101000001_broken'
    const broken = migrationsWith({
      [good]: 'CREATE TABLE "notes" ("id" INTEGER PRIMARY KEY);\n',
      [bad]: 'CREATE TABLE "half" ("id" INTEGER);\nSELECT no_such_function();\n',
    })
    try {
      await assert.rejects(
        withClient((executor) => applyMigrations(executor, { migrationsDir: broken.dir })),
        new RegExp(`migration ${bad} failed and was rolled back: .*no_such_function`),
      )
      const tables = await withClient((executor) =>
        executor.query(
          `SELECT table_name FROM information_schema.tables WHERE table_name IN ('notes', 'half') ORDER BY table_name`,
        ),
      )
      assert.deepEqual(
        tables.map((t) => t['table_name']),
        ['notes'],
      )
      const rows = (await withClient(bookkeeping)).filter((r) => r['migration_name'] === bad)
      assert.equal(rows.length, 1)
      assert.equal(rows[0]?.['finished_at'], null)
      assert.ok(rows[0]?.['rolled_back_at'] instanceof Date)
      assert.match(String(rows[0]?.['logs']), /no_such_function/)

      writeFileSync(join(broken.dir, bad, 'migration.sql'), 'CREATE TABLE "half" ("id" INTEGER);\n')
      assert.deepEqual(
        (await withClient((executor) => applyMigrations(executor, { migrationsDir: broken.dir }))).applied,
        [bad],
      )
    } finally {
      broken.remove()
      await pool.query('DROP TABLE IF EXISTS "notes", "half"')
      await pool.query(`DELETE FROM "_prisma_migrations" WHERE migration_name LIKE '2999%'`)
    }
  })

  test('a migration the CLI left failed (not rolled back) stops start-up, as migrate deploy does', async () => {
    await pool.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at) VALUES ('x-failed', 'x', '29990101000002_cli_failed', now())`,
    )
    try {
      await assert.rejects(
        withClient((executor) => applyMigrations(executor)),
        /29990101000002_cli_failed failed earlier and may be half-applied/,
      )
    } finally {
      await pool.query(`DELETE FROM "_prisma_migrations" WHERE id = 'x-failed'`)
    }
    // The lock was released despite the error.
    const locks = await pool.query(
      `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = 72707369`,
    )
    assert.equal(locks.rows[0]?.n, 0)
  })
})

test('on PGlite: applies once, same books', async () => {
  const db = new PGlite()
  try {
    const executor = pgliteExecutor(db)
    assert.deepEqual(
      (await applyMigrations(executor)).applied,
      migrations.map((m) => m.name),
    )
    assert.deepEqual((await applyMigrations(executor)).applied, [])
    const rows = await bookkeeping(executor)
    assert.deepEqual(
      rows.map((r) => [r['migration_name'], r['checksum'], r['applied_steps_count']]),
      migrations.map((m) => [m.name, m.checksum, 1]),
    )
  } finally {
    await db.close()
  }
})
