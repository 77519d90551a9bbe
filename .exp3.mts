import { openTestPrisma } from './test/support/postgres.js'
for (const kind of ['postgres', 'pglite'] as const) {
const t = await openTestPrisma(kind)
const p = t.prisma
const a = await p.account.create({ data: { login: 'x' + Math.random(), passwordHash: 'h' } })
const time = async (label: string, f: () => Promise<unknown>, n = 50) => { await f(); const s = performance.now(); for (let i = 0; i < n; i++) await f(); console.log(kind, label, ((performance.now() - s) / n).toFixed(2), 'ms') }
await time('count', () => p.accessToken.count({ where: { accountId: a.id } }))
await time('queryRaw', () => p.$queryRaw`SELECT 1`)
await time('create audit', () => p.auditEvent.create({ data: { accountId: a.id, type: 'signup' } }))
await time('itx empty', () => p.$transaction(async (tx) => 1))
await time('itx 1 q', () => p.$transaction(async (tx) => tx.accessToken.count({ where: { accountId: a.id } })))
await time('itx 4 q', () => p.$transaction(async (tx) => { await tx.$queryRaw`SELECT id FROM accounts WHERE id = ${a.id}::uuid FOR UPDATE`; await tx.accessToken.count({ where: { accountId: a.id } }); await tx.auditEvent.create({ data: { accountId: a.id, type: 'signup' } }); await tx.auditEvent.create({ data: { accountId: a.id, type: 'signup' } }) }))
await time('batch 2', () => p.$transaction([p.auditEvent.create({ data: { accountId: a.id, type: 'signup' } }), p.auditEvent.create({ data: { accountId: a.id, type: 'signup' } })]))
await t.close()
}
