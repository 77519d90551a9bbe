/**
 * Applies prisma/migrations at start-up with the bookkeeping of `prisma migrate deploy` (the
 * `_prisma_migrations` table, same columns, same checksums, same advisory lock), so the Prisma
 * CLI and this code agree on what has been applied. The CLI needs a native engine we cannot
 * ship; the SQL files are all that is needed to apply migrations.
 *
 * Unlike the CLI, each migration runs in one transaction with its bookkeeping row: a failure
 * leaves no half-applied schema, and the attempt is kept with `rolled_back_at` set (which Prisma
 * reads as "ignore, may be retried") and its error in `logs`.
 */
import { createHash, randomUUID } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { PGliteInterface } from '@electric-sql/pglite'
import type pg from 'pg'

/** One connection: the advisory lock and BEGIN/COMMIT must all run on the same session. */
export interface MigrationExecutor {
  /** One statement with $n parameters. */
  query(sql: string, params?: unknown[]): Promise<Array<Record<string, unknown>>>
  /** A script of several statements, sent as one simple query. */
  exec(script: string): Promise<void>
}

export function pgExecutor(client: pg.ClientBase): MigrationExecutor {
  return {
    query: async (sql, params) => (await client.query<Record<string, unknown>>(sql, params)).rows,
    exec: async (script) => {
      await client.query(script)
    },
  }
}

export function pgliteExecutor(db: PGliteInterface): MigrationExecutor {
  return {
    query: async (sql, params) => (await db.query<Record<string, unknown>>(sql, params)).rows,
    exec: async (script) => {
      await db.exec(script)
    },
  }
}

/** The key `prisma migrate deploy` locks, so the CLI and several instances of us exclude each other. */
export const migrationLockKey = 72707369

// Prisma's own DDL for the table (schema-engine, postgres flavour).
const createMigrationsTable = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`

export interface Migration {
  name: string
  script: string
  checksum: string
}

export interface MigrationReport {
  /** Applied by this call, in order. */
  applied: string[]
  /** Applied earlier, but the file has changed since (Prisma only warns about this, and so do we). */
  edited: string[]
}

export function checksumOf(script: string): string {
  return createHash('sha256').update(script, 'utf8').digest('hex')
}

/** The folder holding package.json, found from this file: works from src/ (tsx) and dist/src/ (tsc). */
export function packageRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from)
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`no package.json above ${from}`)
    dir = parent
  }
  return dir
}

export function defaultMigrationsDir(): string {
  return join(packageRoot(), 'prisma', 'migrations')
}

export function readMigrations(dir: string = defaultMigrationsDir()): Migration[] {
  if (!existsSync(dir)) throw new Error(`migrations folder ${dir} is missing`)
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const file = join(dir, name, 'migration.sql')
      if (!existsSync(file)) throw new Error(`migration ${name} has no migration.sql`)
      const script = readFileSync(file, 'utf8')
      return { name, script, checksum: checksumOf(script) }
    })
}

function matchesChecksum(migration: Migration, recorded: unknown): boolean {
  // A checkout with CRLF line endings has not really edited the migration (Prisma accepts both too).
  return recorded === migration.checksum || recorded === checksumOf(migration.script.replace(/\r\n/g, '\n'))
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/**
 * Applies every migration not yet recorded as finished, in name order, holding Prisma's advisory
 * lock throughout: of several instances starting together, one migrates and the others wait,
 * then find nothing left to do.
 */
export async function applyMigrations(
  executor: MigrationExecutor,
  options: { migrationsDir?: string } = {},
): Promise<MigrationReport> {
  const migrations = readMigrations(options.migrationsDir)
  const report: MigrationReport = { applied: [], edited: [] }
  await executor.query('SELECT pg_advisory_lock($1)', [migrationLockKey])
  try {
    await executor.exec(createMigrationsTable)
    const rows = await executor.query(
      'SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL ORDER BY started_at',
    )
    const failed = rows.filter((row) => row['finished_at'] === null).map((row) => String(row['migration_name']))
    if (failed.length > 0) {
      // Same stance as the CLI (P3009): a half-applied migration needs a human decision.
      throw new Error(
        `migration ${failed.join(', ')} failed earlier and may be half-applied; fix the database, then mark it rolled back ` +
          `(prisma migrate resolve --rolled-back, or UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE migration_name = ...)`,
      )
    }
    const finished = new Map(rows.map((row) => [String(row['migration_name']), row['checksum']]))

    for (const migration of migrations) {
      if (finished.has(migration.name)) {
        if (!matchesChecksum(migration, finished.get(migration.name))) report.edited.push(migration.name)
        continue
      }
      await applyOne(executor, migration)
      report.applied.push(migration.name)
    }
    return report
  } finally {
    await executor.query('SELECT pg_advisory_unlock($1)', [migrationLockKey])
  }
}

async function applyOne(executor: MigrationExecutor, migration: Migration): Promise<void> {
  const id = randomUUID()
  await executor.exec('BEGIN')
  try {
    await executor.query(
      'INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at) VALUES ($1, $2, $3, now())',
      [id, migration.checksum, migration.name],
    )
    await executor.exec(migration.script)
    // The whole script is one step, as in the CLI; clock_timestamp: now() is frozen at BEGIN.
    await executor.query(
      'UPDATE "_prisma_migrations" SET applied_steps_count = 1, finished_at = clock_timestamp() WHERE id = $1',
      [id],
    )
    await executor.exec('COMMIT')
  } catch (error) {
    try {
      await executor.exec('ROLLBACK')
      await executor.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, logs, started_at, rolled_back_at)
         VALUES ($1, $2, $3, $4, now(), now())`,
        [id, migration.checksum, migration.name, messageOf(error)],
      )
    } catch {
      // The connection is gone: nothing was committed, and there is nowhere to record the attempt.
    }
    throw new Error(`migration ${migration.name} failed and was rolled back: ${messageOf(error)}`, { cause: error })
  }
}
