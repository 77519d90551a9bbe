/**
 * The Prisma client over the configured Postgres: a server (DATABASE_URL, through a pg pool) or
 * an embedded PGlite kept in DATA_DIR. Pending migrations are applied before it is handed out.
 */
import { mkdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { PrismaPg } from '@prisma/adapter-pg'
import pg from 'pg'
import { PrismaPGlite } from 'pglite-prisma-adapter'
import { PrismaClient } from '../../../generated/prisma/client.js'
import { applyMigrations, pgExecutor, pgliteExecutor } from './migrate.js'
import { toStoreError } from './errors.js'

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
}

export const poolSize = 10
// A down server should fail a request quickly (UNAVAILABLE), not hold it for the OS TCP timeout.
export const connectTimeoutMs = 3000

export async function openPrisma(options: OpenPrismaOptions): Promise<OpenedPrisma> {
  return options.databaseUrl === undefined
    ? openPGlite(options.dataDir, options.migrationsDir)
    : openServer(options.databaseUrl, options.migrationsDir)
}

async function openServer(databaseUrl: string, migrationsDir: string | undefined): Promise<OpenedPrisma> {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: poolSize,
    connectionTimeoutMillis: connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
  })
  // Idle clients whose server went away emit 'error'; unhandled, that would crash the process.
  // The pool drops them and opens fresh connections on demand, which is how we recover.
  pool.on('error', () => {})
  try {
    const client = await pool.connect()
    let broken: Error | undefined
    try {
      await applyMigrations(pgExecutor(client), { migrationsDir })
    } catch (error) {
      broken = error instanceof Error ? error : new Error(String(error))
      throw error
    } finally {
      client.release(broken)
    }
  } catch (error) {
    await pool.end().catch(() => {})
    throw toStoreError(error)
  }
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) })
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
  const location = resolve(join(dataDir, 'pglite'))
  await mkdir(location, { recursive: true })
  return openPGliteDatabase(new PGlite(location), location, migrationsDir)
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
