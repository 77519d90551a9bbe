/**
 * Creates the embedded database (initdb) in the folder given as argument, then exits. It runs in a
 * short-lived child process: PGlite's initdb needs a second Postgres instance and a copy of its
 * whole WebAssembly memory (~600 MB at peak), which the service process would otherwise keep as
 * its peak RSS and, until a full GC, as its resident size.
 */
import { PGlite } from '@electric-sql/pglite'
import { pgliteStartParams } from './pglite-options.js'

const location = process.argv[2]
if (location === undefined) throw new Error('usage: pglite-init <data folder>')
const db = new PGlite(location, { startParams: pgliteStartParams })
await db.waitReady
await db.close()
