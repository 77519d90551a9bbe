import { PGlite } from '@electric-sql/pglite'
import { PrismaPGlite } from 'pglite-prisma-adapter'
import { PrismaClient } from './src/generated/prisma/client.js'
import { applyMigrations, pgliteExecutor } from './src/store/postgres/migrate.js'
const db = new PGlite()
console.time('init'); await db.waitReady; console.timeEnd('init')
console.log(await applyMigrations(pgliteExecutor(db)))
console.log(await applyMigrations(pgliteExecutor(db)))
console.log((await db.query('select * from _prisma_migrations')).rows)
const prisma = new PrismaClient({ adapter: new PrismaPGlite(db), log: [{ emit: 'event', level: 'query' }] })
prisma.$on('query', (e) => console.log('SQL', e.query))
const a = await prisma.account.create({ data: { login: 'alice', passwordHash: 'x' } })
await prisma.twoFactor.create({ data: { accountId: a.id, secretCipher: Buffer.from([1,2,3]), secretKeyId: 'k' } })
const r = await prisma.twoFactor.updateMany({ where: { accountId: a.id, lastStep: { lt: 5n } }, data: { lastStep: 5n } })
console.log(r)
const t = await prisma.twoFactor.findUnique({ where: { accountId: a.id } })
console.log(t)
const tok = await prisma.accessToken.create({ data: { accountId: a.id, digest: Buffer.from('abc'), description: 'd', hint: 'h', apiList: ['a', 'b'] } })
console.log(tok)
const res = await prisma.$transaction(async (tx) => {
  const rows = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM accounts WHERE id = ${a.id}::uuid FOR UPDATE`
  return rows
})
console.log(res)
try { await prisma.account.create({ data: { login: 'alice', passwordHash: 'y' } }) } catch (e) { console.log('ERR', (e as any).name, (e as any).code, JSON.stringify((e as any).meta), (e as any).message) }
await prisma.$disconnect(); await db.close()
