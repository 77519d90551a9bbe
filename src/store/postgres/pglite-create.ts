/**
 * Creating the embedded database when DATA_DIR holds none yet, in a short-lived child process
 * (pglite-init.ts): it unpacks the database `npm run build` created (dist/pglite-template.tar.gz,
 * scripts/build-pglite-template.ts) or, without one, runs initdb (seconds of WebAssembly).
 * `main.ts` starts it before loading the rest of the service, so the two overlap; `openPrisma` then
 * waits for that same child. This module loads only Node's own modules, so starting it early
 * costs nothing.
 */
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { dirname, extname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { packageRoot } from './migrate.js'

/** The database `npm run build` made; absent when running from sources without a build. */
export function builtTemplate(): string {
  return join(packageRoot(), 'dist', 'pglite-template.tar.gz')
}

/** Where PGlite keeps its data under DATA_DIR. */
export function pgliteLocation(dataDir: string): string {
  return resolve(join(dataDir, 'pglite'))
}

/** Creations started early, by folder, until `createPGliteDatabase` takes them. */
const started = new Map<string, Promise<void>>()

/** Starts creating the database in `location` (if it holds none), for `createPGliteDatabase` to await. */
export function startPGliteCreation(location: string, template = builtTemplate()): void {
  if (started.has(location)) return
  const creating = create(location, template)
  // Awaited later by createPGliteDatabase, which rethrows; until then a failure is not unhandled.
  creating.catch(() => undefined)
  started.set(location, creating)
}

/** Creates the database in `location` unless it holds one, or waits for the creation started early. */
export function createPGliteDatabase(location: string, template = builtTemplate()): Promise<void> {
  const creating = started.get(location) ?? create(location, template)
  started.delete(location)
  return creating
}

async function create(location: string, template: string): Promise<void> {
  await mkdir(location, { recursive: true })
  if (existsSync(join(location, 'PG_VERSION'))) return
  const here = fileURLToPath(import.meta.url)
  const script = join(dirname(here), `pglite-init${extname(here)}`)
  // From TypeScript sources (tests, npm run dev) the child needs the same loader.
  const child = fork(script, existsSync(template) ? [location, template] : [location], {
    execArgv: extname(here) === '.ts' ? ['--import', 'tsx'] : ['--liftoff-only'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const [code] = (await once(child, 'exit')) as [number | null]
  if (code !== 0) throw new Error(`creating the embedded database in ${location} failed (exit code ${code})`)
}
