import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { entry, type Harness } from './harness.js'

export function auditStoreContract(h: () => Harness): void {
  test('record then list: newest first, with ip, user agent, detail and the given time', async () => {
    const { stores, newAccount } = h()
    const account = await newAccount()
    const t0 = new Date('2030-01-01T00:00:00.000Z')
    await stores.audit.record(account.id, entry('signin.failure'), t0)
    await stores.audit.record(
      account.id,
      entry('signin.success', { method: 'password', fresh: true, n: 2, none: null }),
      new Date(t0.getTime() + 1000),
    )
    await stores.audit.record(account.id, { type: 'signout', ip: null, userAgent: null }, new Date(t0.getTime() + 2000))

    const events = await stores.audit.list(account.id, 10)
    // The sign-up audit row is dated by the database clock, long before 2030.
    assert.deepEqual(
      events.map((e) => e.type),
      ['signout', 'signin.success', 'signin.failure', 'signup'],
    )
    assert.deepEqual(events[0], { type: 'signout', ip: null, userAgent: null, at: new Date(t0.getTime() + 2000) })
    assert.deepEqual(events[1], {
      type: 'signin.success',
      ip: '203.0.113.7',
      userAgent: 'contract-test',
      detail: { method: 'password', fresh: true, n: 2, none: null },
      at: new Date(t0.getTime() + 1000),
    })
    assert.equal(events[2]?.detail, undefined)
  })

  test('limit keeps the newest; events of the same instant keep insertion order reversed', async () => {
    const { stores, newAccount } = h()
    const account = await newAccount()
    const at = new Date('2031-06-01T12:00:00.000Z')
    for (let i = 0; i < 5; i++) await stores.audit.record(account.id, entry('signin.failure', { i }), at)
    const events = await stores.audit.list(account.id, 3)
    assert.deepEqual(
      events.map((e) => e.detail?.['i']),
      [4, 3, 2],
    )
  })

  test('an unknown login is recorded with no account; lists are per account', async () => {
    const { stores, prisma, newAccount } = h()
    const [a, b] = [await newAccount(), await newAccount()]
    const before = await prisma.auditEvent.count({ where: { accountId: null } })
    await stores.audit.record(null, entry('signin.failure', { login: 'nobody' }), new Date())
    assert.equal(await prisma.auditEvent.count({ where: { accountId: null } }), before + 1)
    await stores.audit.record(a.id, entry('signout'), new Date())
    assert.ok((await stores.audit.list(b.id, 100)).every((e) => e.type === 'signup'))
    assert.deepEqual(await stores.audit.list(randomUUID(), 10), [])
    assert.deepEqual(await stores.audit.list('garbage', 10), [])
  })
}
