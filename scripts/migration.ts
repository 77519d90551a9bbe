/**
 * `npm run migration -- <name>`: writes prisma/migrations/<timestamp>_<name>/migration.sql, the
 * diff from the committed migrations to prisma/schema.prisma (see scripts/lib/migrations.ts for
 * why this drives the WASM schema engine rather than `prisma migrate dev`).
 *
 * Flags: `--empty` writes an empty migration for hand-written SQL (data migrations).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  diffMigrationsToSchema,
  migrationLockToml,
  migrationsDir,
  openSchemaEngine,
  readMigrationsList,
  schemaPath,
} from './lib/migrations.js'

function migrationTimestamp(now: Date): string {
  return now.toISOString().replace(/[-:T]/g, '').slice(0, 14)
}

/** Same shape as the CLI's names: lower-case words joined by underscores. */
function slug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 200)
}

async function main(argv: string[]): Promise<number> {
  const empty = argv.includes('--empty')
  const name = slug(argv.filter((arg) => !arg.startsWith('--')).join('_'))
  if (name === '') {
    console.error('usage: npm run migration -- <name> [--empty]')
    return 2
  }
  const schema = readFileSync(schemaPath, 'utf8')
  const migrations = readMigrationsList()
  const existing = migrations.migrationDirectories.map((d) => d.path)

  const { engine, close } = await openSchemaEngine(schema)
  let script: string | null
  try {
    script = await diffMigrationsToSchema(engine, migrations, schema)
  } finally {
    await close()
  }
  if (script === null && !empty) {
    console.log(
      'schema.prisma and the migrations already agree; no migration written (use --empty for a hand-written one).',
    )
    return 0
  }

  // Names must sort in creation order even if the clock is behind the newest migration.
  const latest = existing.at(-1)?.slice(0, 14)
  let stamp = migrationTimestamp(new Date())
  if (latest !== undefined && /^\d{14}$/.test(latest) && latest >= stamp) stamp = String(BigInt(latest) + 1n)
  const directory = `${stamp}_${name}`
  mkdirSync(join(migrationsDir, directory), { recursive: true })
  writeFileSync(join(migrationsDir, directory, 'migration.sql'), script ?? '-- This is an empty migration.\n')
  const lockPath = join(migrationsDir, 'migration_lock.toml')
  if (!existsSync(lockPath)) writeFileSync(lockPath, migrationLockToml)
  console.log(`wrote prisma/migrations/${directory}/migration.sql${script === null ? ' (empty)' : ''}`)
  return 0
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error)
    process.exit(1)
  },
)
