/**
 * Creates the embedded database in the folder given as first argument, then exits: by unpacking
 * the template given as second argument (a `dumpDataDir` tarball made by `npm run build`), or by
 * initdb without one. It runs in a short-lived child process: PGlite's initdb needs a second
 * Postgres instance and a copy of its whole WebAssembly memory (~600 MB at peak), and unpacking
 * holds the tarball, which the service process would otherwise keep as its peak RSS.
 */
import { readFile } from 'node:fs/promises'
import { PGlite } from '@electric-sql/pglite'
import { pgliteStartParams } from './pglite-options.js'

const [location, template] = process.argv.slice(2)
if (location === undefined) throw new Error('usage: pglite-init <data folder> [template.tar.gz]')
const loadDataDir = template === undefined ? undefined : new Blob([await readFile(template)])
const db = new PGlite(location, {
  startParams: pgliteStartParams,
  ...(loadDataDir === undefined ? {} : { loadDataDir }),
})
await db.waitReady
await db.close()
