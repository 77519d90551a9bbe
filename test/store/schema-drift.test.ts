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
import { PrismaPg } from '@prisma/adapter-pg'
import pg from 'pg'
import {
  diffDatabaseToSchema,
  diffMigrationsToSchema,
  migrationLockToml,
  migrationsDir,
  openSchemaEngine,
  pgliteFactory,
  readMigrationsList,
  schemaPath,
} from '../../scripts/migration.js'
import { applyMigrations, pgExecutor, pgliteExecutor } from '../../src/store/postgres/migrate.js'
import { createTestDatabase } from '../support/postgres.js'

const schema = readFileSync(schemaPath, 'utf8')

describe('schema.prisma and prisma/migrations agree', () => {
  test('the lock file names postgresql, as the CLI writes it', () => {
    assert.equal(readFileSync(join(migrationsDir, 'migration_lock.toml'), 'utf8'), migrationLockToml)
  })

  test('replaying the migrations gives exactly the datamodel (empty diff)', async () => {
    const { engine, close } = await openSchemaEngine(schema)
    try {
      const drift = await diffMigrationsToSchema(engine, readMigrationsList(), schema)
      assert.equal(drift, null, `schema.prisma has changes no migration covers; run \`npm run migration -- <name>\`:\n${drift}`)
    } finally {
      close()
    }
  })

  test('the check fails when they differ: a field added to schema.prisma shows up', async () => {
    const changed = schema.replace(/(model Account \{\n)/, '$1  nickname String?\n')
    assert.notEqual(changed, schema)
    const { engine, close } = await openSchemaEngine(changed)
    try {
      const drift = await diffMigrationsToSchema(engine, readMigrationsList(), changed)
      assert.ok(drift !== null)
      assert.match(drift, /ALTER TABLE "accounts" ADD COLUMN\s+"nickname" TEXT/)
    } finally {
      close()
    }
  })

  test('…and when a migration is missing: without them, the whole schema is drift', async () => {
    const { engine, close } = await openSchemaEngine(schema)
    try {
      const drift = await diffMigrationsToSchema(engine, { ...readMigrationsList(), migrationDirectories: [] }, schema)
      assert.match(drift ?? '', /CREATE TABLE "accounts"/)
    } finally {
      close()
    }
  })
})

describe('a database migrated by applyMigrations matches the datamodel', () => {
  test('PGlite: live diff is empty and the engine finds the history in order', async () => {
    const db = new PGlite()
    try {
      await applyMigrations(pgliteExecutor(db))
      const { engine, close } = await openSchemaEngine(schema, pgliteFactory(db))
      try {
        assert.equal(await diffDatabaseToSchema(engine, schema), null)
        const diagnosis = await engine.diagnoseMigrationHistory({
          migrationsList: readMigrationsList(),
          optInToShadowDatabase: false,
          filters: { externalTables: [], externalEnums: [] },
        })
        assert.deepEqual(diagnosis, { editedMigrationNames: [], failedMigrationNames: [], hasMigrationsTable: true, history: null })
      } finally {
        close()
      }
    } finally {
      await db.close()
    }
  })

  describe('Postgres server', () => {
    let database: Awaited<ReturnType<typeof createTestDatabase>>
    before(async () => {
      database = await createTestDatabase()
    })
    after(async () => {
      await database.drop()
    })

    test('live diff is empty and the engine finds the history in order', async () => {
      const client = new pg.Client({ connectionString: database.url })
      await client.connect()
      try {
        await applyMigrations(pgExecutor(client))
      } finally {
        await client.end()
      }
      const { engine, close } = await openSchemaEngine(schema, new PrismaPg({ connectionString: database.url }))
      try {
        assert.equal(await diffDatabaseToSchema(engine, schema), null)
        const diagnosis = await engine.diagnoseMigrationHistory({
          migrationsList: readMigrationsList(),
          optInToShadowDatabase: false,
          filters: { externalTables: [], externalEnums: [] },
        })
        assert.deepEqual(diagnosis, { editedMigrationNames: [], failedMigrationNames: [], hasMigrationsTable: true, history: null })
      } finally {
        close()
      }
    })
  })
})
