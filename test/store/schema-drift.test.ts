/**
 * schema.prisma (what the client is generated from) and prisma/migrations (what databases are
 * built from) must describe the same database. The WASM schema engine is the judge: it replays
 * the migrations into a shadow PGlite and diffs that against the datamodel, exactly as
 * `prisma migrate diff --from-migrations --to-schema` does. A second check diffs real databases
 * migrated by our own applier, and asks the engine whether it accepts our bookkeeping.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import {
  diffDatabaseToSchema,
  diffMigrationsToSchema,
  migrationLockToml,
  migrationsDir,
  openSchemaEngine,
  type OpenedEngine,
  pgliteFactory,
  readMigrationsList,
  schemaPath,
} from '../../scripts/lib/migrations.js'
import { applyMigrations, pgExecutor, pgliteExecutor } from '../../src/store/postgres/migrate.js'
import { createTestDatabase } from '../support/postgres.js'

const schema = readFileSync(schemaPath, 'utf8')

describe('schema.prisma and prisma/migrations agree', () => {
  let opened: OpenedEngine
  before(async () => {
    opened = await openSchemaEngine(schema)
  })
  after(async () => {
    await opened.close()
  })

  test('the lock file names postgresql, as the CLI writes it', () => {
    assert.equal(readFileSync(join(migrationsDir, 'migration_lock.toml'), 'utf8'), migrationLockToml)
  })

  test('replaying the migrations gives exactly the datamodel (empty diff)', async () => {
    const drift = await diffMigrationsToSchema(opened.engine, readMigrationsList(), schema)
    assert.equal(
      drift,
      null,
      `schema.prisma has changes no migration covers; run \`npm run migration -- <name>\`:\n${drift}`,
    )
  })

  test('the check fails when they differ: a field added to schema.prisma shows up', async () => {
    const changed = schema.replace(/(model Account \{\n)/, '$1  nickname String?\n')
    assert.notEqual(changed, schema)
    const drift = await diffMigrationsToSchema(opened.engine, readMigrationsList(), changed)
    assert.match(drift ?? '', /ALTER TABLE "accounts" ADD COLUMN\s+"nickname" TEXT/)
  })

  test('…and when a migration is missing: without them, the whole schema is drift', async () => {
    const drift = await diffMigrationsToSchema(
      opened.engine,
      { ...readMigrationsList(), migrationDirectories: [] },
      schema,
    )
    assert.match(drift ?? '', /CREATE TABLE "accounts"/)
  })
})

/**
 * Tables, columns, indexes and constraints of the public schema, in a form both servers print alike
 * (PGlite's newer Postgres also lists NOT NULL as constraints, contype 'n'; nullability is in columns).
 */
async function describeSchema(query: (sql: string) => Promise<Array<Record<string, unknown>>>): Promise<unknown> {
  return {
    columns: await query(`SELECT table_name, column_name, udt_name, is_nullable, column_default, datetime_precision
                          FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, column_name`),
    indexes: await query(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname`),
    constraints: await query(`SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
                              WHERE connamespace = 'public'::regnamespace AND contype <> 'n' ORDER BY conname`),
  }
}

describe('a database migrated by applyMigrations matches the datamodel', () => {
  let pglite: PGlite
  let database: Awaited<ReturnType<typeof createTestDatabase>>
  let server: pg.Client
  before(async () => {
    pglite = new PGlite()
    database = await createTestDatabase()
    server = new pg.Client({ connectionString: database.url })
    await server.connect()
    await Promise.all([applyMigrations(pgliteExecutor(pglite)), applyMigrations(pgExecutor(server))])
  })
  after(async () => {
    await server.end()
    await pglite.close()
    await database.drop()
  })

  test('PGlite: the engine sees no difference from the datamodel, and accepts our migration history', async () => {
    const { engine, close } = await openSchemaEngine(schema, pgliteFactory(pglite))
    try {
      assert.equal(await diffDatabaseToSchema(engine, schema), null)
      const diagnosis = await engine.diagnoseMigrationHistory({
        migrationsList: readMigrationsList(),
        optInToShadowDatabase: false,
        filters: { externalTables: [], externalEnums: [] },
      })
      assert.deepEqual(diagnosis, {
        editedMigrationNames: [],
        failedMigrationNames: [],
        hasMigrationsTable: true,
        history: null,
      })
    } finally {
      await close()
    }
  })

  // adapter-pg 7.10 cannot decode the catalog types this engine build introspects with, so the
  // server is compared with the PGlite database the engine has just vouched for.
  test('Postgres server: the same tables, columns, indexes and constraints as on PGlite', async () => {
    const onServer = await describeSchema(async (sql) => (await server.query<Record<string, unknown>>(sql)).rows)
    const onPGlite = await describeSchema(async (sql) => (await pglite.query<Record<string, unknown>>(sql)).rows)
    assert.deepEqual(onServer, onPGlite)
  })
})
