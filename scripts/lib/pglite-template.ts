import { writeFile } from 'node:fs/promises'
import { PGlite } from '@electric-sql/pglite'
import { pgliteStartParams } from '../../src/store/postgres/pglite-options.js'

/**
 * Runs initdb once, in memory, and writes the new database as a gzipped tarball to `file`: the
 * embedded service's first start unpacks it instead of running initdb (src/store/postgres/pglite-create.ts).
 * Migrations are not in it; the service applies them at start as on any database.
 */
export async function writePGliteTemplate(file: string): Promise<number> {
  const db = new PGlite({ startParams: pgliteStartParams })
  try {
    await db.waitReady
    const dump = Buffer.from(await (await db.dumpDataDir('gzip')).arrayBuffer())
    await writeFile(file, dump)
    return dump.length
  } finally {
    await db.close()
  }
}
