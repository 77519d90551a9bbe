/**
 * The Prisma client over the configured Postgres: a server (DATABASE_URL, through a pg pool) or
 * an embedded PGlite kept in DATA_DIR. Pending migrations are applied before it is handed out.
 */
import { PGlite } from '@electric-sql/pglite'
import { PrismaPg } from '@prisma/adapter-pg'
import pg from 'pg'
import { PrismaPGlite } from 'pglite-prisma-adapter'
import { PrismaClient } from '../../../generated/prisma/client.js'
import { applyMigrations, pgExecutor, pgliteExecutor } from './migrate.js'
import { toStoreError } from './errors.js'
import { pgliteStartParams } from './pglite-options.js'
import { createPGliteDatabase, pgliteLocation } from './pglite-create.js'

export interface OpenedPrisma {
  prisma: PrismaClient
  kind: 'postgres' | 'pglite'
  /** The connection string, or the PGlite data folder. */
  location: string
  close(): Promise<void>
}

export interface OpenPrismaOptions {
  databaseUrl?: string | undefined
  dataDir: string
  /** Where the migrations live; tests point elsewhere. */
  migrationsDir?: string
  /**
   * STORE_TIMEOUT_MS: the longest a connection attempt, a query (client side and, as
   * statement_timeout, server side) or a transaction may take on the server.
   */
  storeTimeoutMs?: number
}

export const poolSize = 10
// A down server should fail a request quickly (UNAVAILABLE), not hold it for the OS TCP timeout.
export const connectTimeoutMs = 3000

export async function openPrisma(options: OpenPrismaOptions): Promise<OpenedPrisma> {
  return options.databaseUrl === undefined
    ? openPGlite(options.dataDir, options.migrationsDir)
    : openServer(options.databaseUrl, options.migrationsDir, options.storeTimeoutMs ?? connectTimeoutMs)
}

/** Migrations may legitimately run long: they get a connection of their own, without the per-call timeouts. */
async function migrate(databaseUrl: string, migrationsDir: string | undefined): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: connectTimeoutMs })
  client.on('error', () => {})
  try {
    await client.connect()
    await applyMigrations(pgExecutor(client), { migrationsDir })
  } catch (error) {
    throw toStoreError(error)
  } finally {
    await client.end().catch(() => {})
  }
}

async function openServer(
  databaseUrl: string,
  migrationsDir: string | undefined,
  storeTimeoutMs: number,
): Promise<OpenedPrisma> {
  await migrate(databaseUrl, migrationsDir)
  // A black-holed server never answers: without these, a query (and the pooled connection under
  // it) would wait for the OS to give up on the socket, minutes later.
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: poolSize,
    connectionTimeoutMillis: storeTimeoutMs,
    query_timeout: storeTimeoutMs,
    statement_timeout: storeTimeoutMs,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
  })
  // Idle clients whose server went away emit 'error'; unhandled, that would crash the process.
  // The pool drops them and opens fresh connections on demand, which is how we recover.
  pool.on('error', () => {})
  const prisma = new PrismaClient({
    adapter: new PrismaPg(pool),
    // A transaction the call has stopped waiting for is rolled back rather than left to commit later.
    transactionOptions: { maxWait: storeTimeoutMs, timeout: storeTimeoutMs },
  })
  return {
    prisma,
    kind: 'postgres',
    location: databaseUrl,
    async close() {
      await prisma.$disconnect()
      await pool.end()
    },
  }
}

async function openPGlite(dataDir: string, migrationsDir: string | undefined): Promise<OpenedPrisma> {
  const location = pgliteLocation(dataDir)
  await createPGliteDatabase(location)
  return openPGliteDatabase(new PGlite(location, { startParams: pgliteStartParams }), location, migrationsDir)
}

/** Migrates and wraps an already-created PGlite (tests use an in-memory one); closing closes it. */
export async function openPGliteDatabase(db: PGlite, location: string, migrationsDir?: string): Promise<OpenedPrisma> {
  try {
    await db.waitReady
    await applyMigrations(pgliteExecutor(db), { migrationsDir })
  } catch (error) {
    await db.close().catch(() => {})
    throw error
  }
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(db) })
  return {
    prisma,
    kind: 'pglite',
    location,
    async close() {
      await prisma.$disconnect()
      await db.close()
    },
  }
}
