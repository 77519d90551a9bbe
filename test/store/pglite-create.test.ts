/**
 * Creating the embedded database on a first start: from the template `npm run build` writes, or by
 * initdb when there is none. Either way the folder then holds a database the service migrates and
 * uses, and a second creation leaves it as it is.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { PGlite } from '@electric-sql/pglite'
import { createPGliteDatabase, startPGliteCreation } from '../../src/store/postgres/pglite-create.js'
import { openPGliteDatabase } from '../../src/store/postgres/client.js'
import { pgliteStartParams } from '../../src/store/postgres/pglite-options.js'
import { writePGliteTemplate } from '../../scripts/lib/pglite-template.js'

describe('creating the embedded database', () => {
  let dir: string
  let template: string
  /** initdb gives every database a new system identifier; one unpacked from the template keeps the template's. */
  let templateId: string
  const systemId = async (db: PGlite): Promise<string> => {
    const rows = await db.query<{ id: string }>('select system_identifier::text as id from pg_control_system()')
    return rows.rows[0]?.id ?? ''
  }
  const systemIdOf = async (location: string): Promise<string> => {
    const db = new PGlite(location, { startParams: pgliteStartParams })
    try {
      return await systemId(db)
    } finally {
      await db.close()
    }
  }
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'latchkey-pglite-create-'))
    template = join(dir, 'template.tar.gz')
    assert.ok((await writePGliteTemplate(template)) > 0)
    const unpacked = new PGlite({ loadDataDir: new Blob([await readFile(template)]) })
    templateId = await systemId(unpacked)
    await unpacked.close()
    assert.match(templateId, /^\d+$/)
  })
  after(() => rm(dir, { recursive: true, force: true }))

  /** Opens the created folder as the service does: migrations applied, then a write and a read. */
  async function usable(location: string): Promise<void> {
    assert.ok(existsSync(join(location, 'PG_VERSION')), 'the folder holds a database')
    const opened = await openPGliteDatabase(new PGlite(location, { startParams: pgliteStartParams }), location)
    try {
      const account = await opened.prisma.account.create({ data: { login: 'created@example.com', passwordHash: 'x' } })
      assert.equal(
        (await opened.prisma.account.findUnique({ where: { id: account.id } }))?.login,
        'created@example.com',
      )
    } finally {
      await opened.close()
    }
  }

  test('from the built template', async () => {
    const location = join(dir, 'from-template')
    await createPGliteDatabase(location, template)
    assert.equal(await systemIdOf(location), templateId, 'unpacked from the template, not made by initdb')
    await usable(location)
  })

  test('by initdb when no template was built', async () => {
    const location = join(dir, 'by-initdb')
    await createPGliteDatabase(location, join(dir, 'no-such-template.tar.gz'))
    assert.notEqual(await systemIdOf(location), templateId, 'made by initdb')
    await usable(location)
  })

  test('started early and awaited later, it is one creation; an existing database is left as it is', async () => {
    const location = join(dir, 'early')
    startPGliteCreation(location, template)
    await createPGliteDatabase(location, template)
    await usable(location)
    // The account written above survives a second creation of the same folder.
    await createPGliteDatabase(location, template)
    const db = new PGlite(location, { startParams: pgliteStartParams })
    try {
      const rows = await db.query<{ n: number }>('select count(*)::int as n from accounts')
      assert.equal(rows.rows[0]?.n, 1)
    } finally {
      await db.close()
    }
  })
})
