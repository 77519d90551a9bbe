import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { AppError } from '../../../src/errors.js'
import { entry, failingEntry, randomLogin, type Harness } from './harness.js'

function isReason(reason: string) {
  return (error: unknown) => error instanceof AppError && error.reason === reason
}

export function accountStoreContract(h: () => Harness): void {
  test('create stores the canonical login and audits the sign-up', async () => {
    const { stores, auditCount } = h()
    const login = randomLogin()
    const created = await stores.accounts.create(
      { login: login.toUpperCase(), email: 'a@example.com', passwordHash: 'hash-1' },
      entry('signup'),
    )
    assert.equal(created.login, login)
    assert.equal(created.email, 'a@example.com')
    assert.equal(created.passwordHash, 'hash-1')
    assert.equal(created.twoFactorEnabled, false)
    assert.ok(created.createdAt instanceof Date)
    assert.equal(await auditCount(created.id, 'signup'), 1)
  })

  test('findByLogin is case-insensitive; findById; unknown or malformed gives null', async () => {
    const { stores, newAccount } = h()
    const account = await newAccount()
    assert.deepEqual(await stores.accounts.findByLogin(account.login.toUpperCase()), account)
    assert.deepEqual(await stores.accounts.findById(account.id), account)
    assert.equal(await stores.accounts.findByLogin(randomLogin()), null)
    assert.equal(await stores.accounts.findById(randomUUID()), null)
    assert.equal(await stores.accounts.findById('not-a-uuid'), null)
  })

  test('a taken login (any case) is CONFLICT "That login is taken." and leaves no audit row', async () => {
    const { stores, prisma, newAccount } = h()
    const account = await newAccount()
    const before = await prisma.auditEvent.count()
    await assert.rejects(
      stores.accounts.create({ login: account.login.toUpperCase(), email: null, passwordHash: 'x' }, entry('signup')),
      (error: unknown) =>
        error instanceof AppError && error.reason === 'CONFLICT' && error.message === 'That login is taken.',
    )
    assert.equal(await prisma.auditEvent.count(), before)
  })

  test('parallel sign-ups of one login: exactly one wins', async () => {
    const { stores, prisma } = h()
    const login = randomLogin()
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () =>
        stores.accounts.create({ login, email: null, passwordHash: 'x' }, entry('signup')),
      ),
    )
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1)
    for (const r of results) if (r.status === 'rejected') assert.ok(isReason('CONFLICT')(r.reason))
    assert.equal(await prisma.account.count({ where: { login } }), 1)
  })

  test('changePassword replaces the hash and audits; unknown account is NOT_FOUND', async () => {
    const { stores, newAccount, auditCount } = h()
    const account = await newAccount()
    await stores.accounts.changePassword(account.id, 'hash-2', entry('password.changed'), new Date())
    assert.equal((await stores.accounts.findById(account.id))?.passwordHash, 'hash-2')
    assert.equal(await auditCount(account.id, 'password.changed'), 1)
    await assert.rejects(
      stores.accounts.changePassword(randomUUID(), 'x', entry('password.changed'), new Date()),
      isReason('NOT_FOUND'),
    )
  })

  test('audit row present iff the change happened: a failing audit insert undoes the change', async () => {
    const { stores, prisma, newAccount, auditCount } = h()
    const account = await newAccount()
    await assert.rejects(
      stores.accounts.changePassword(account.id, 'hash-3', failingEntry('password.changed'), new Date()),
    )
    assert.equal((await stores.accounts.findById(account.id))?.passwordHash, 'hash')
    assert.equal(await auditCount(account.id, 'password.changed'), 0)

    const login = randomLogin()
    await assert.rejects(stores.accounts.create({ login, email: null, passwordHash: 'x' }, failingEntry('signup')))
    assert.equal(await prisma.account.count({ where: { login } }), 0)
  })

  test('twoFactorEnabled follows the two-factor store', async () => {
    const { stores, newAccount } = h()
    const account = await newAccount()
    await stores.twoFactor.enable(account.id, new Uint8Array(20), ['aaaaa-aaaaa'], entry('2fa.enabled'), new Date())
    assert.equal((await stores.accounts.findById(account.id))?.twoFactorEnabled, true)
    assert.equal((await stores.accounts.findByLogin(account.login))?.twoFactorEnabled, true)
  })

  test('operator changes: lock, unlock and the 2FA deadline, each with its audit row or not at all', async () => {
    const { stores, newAccount, auditCount } = h()
    const account = await newAccount()
    const first = new Date(Date.now() - 60_000)
    await stores.accounts.setLocked(account.id, true, entry('admin.locked', { admin: 'ops', reason: 'r' }), first)
    // Locking again keeps the first time and still records the call.
    await stores.accounts.setLocked(account.id, true, entry('admin.locked'), new Date())
    assert.deepEqual((await stores.accounts.findById(account.id))?.lockedAt, first)
    assert.equal(await auditCount(account.id, 'admin.locked'), 2)
    assert.deepEqual(await stores.accounts.recordSignIn(account.id, new Date()), {
      locked: true,
      twoFactorRequiredBy: null,
    })

    await assert.rejects(stores.accounts.setLocked(account.id, false, failingEntry('admin.unlocked'), new Date()))
    assert.notEqual((await stores.accounts.findById(account.id))?.lockedAt, null)
    await stores.accounts.setLocked(account.id, false, entry('admin.unlocked'), new Date())
    assert.equal((await stores.accounts.findById(account.id))?.lockedAt, null)

    const deadline = new Date(Date.now() + 86_400_000)
    await assert.rejects(
      stores.accounts.setTwoFactorRequiredBy(account.id, deadline, failingEntry('admin.2fa.required'), new Date()),
    )
    assert.equal((await stores.accounts.findById(account.id))?.twoFactorRequiredBy, null)
    await stores.accounts.setTwoFactorRequiredBy(account.id, deadline, entry('admin.2fa.required'), new Date())
    const signedIn = new Date()
    assert.deepEqual(await stores.accounts.recordSignIn(account.id, signedIn), {
      locked: false,
      twoFactorRequiredBy: deadline,
    })
    const after = await stores.accounts.findById(account.id)
    assert.deepEqual([after?.twoFactorRequiredBy, after?.lastSignInAt], [deadline, signedIn])

    // Thunks: each change starts only when its rejection is awaited.
    for (const change of [
      () => stores.accounts.setLocked(randomUUID(), true, entry('admin.locked'), new Date()),
      () => stores.accounts.setTwoFactorRequiredBy(randomUUID(), null, entry('admin.2fa.required'), new Date()),
    ])
      await assert.rejects(change, isReason('NOT_FOUND'))
    assert.equal(await stores.accounts.recordSignIn(randomUUID(), new Date()), null)
  })

  test('list: login order from a keyset cursor, literal prefixes, twoFactor filters', async () => {
    const { stores } = h()
    const stem = `ls${randomLogin().slice(-8)}`
    const made = []
    for (const name of ['b', 'a', 'c', '_d', 'xd'])
      made.push(
        await stores.accounts.create({ login: `${stem}${name}`, email: null, passwordHash: 'x' }, entry('signup')),
      )
    const [b, a] = made
    assert.ok(a !== undefined && b !== undefined)
    await stores.twoFactor.enable(a.id, new Uint8Array(20), ['aaaaa-aaaaa'], entry('2fa.enabled'), new Date())
    await stores.accounts.setTwoFactorRequiredBy(
      b.id,
      new Date(Date.now() - 1000),
      entry('admin.2fa.required'),
      new Date(),
    )
    const now = new Date()
    const logins = async (query: Partial<Parameters<typeof stores.accounts.list>[0]>) =>
      (await stores.accounts.list({ limit: 10, now, loginPrefix: stem, ...query })).map((x) =>
        x.login.slice(stem.length),
      )

    assert.deepEqual(await logins({}), ['_d', 'a', 'b', 'c', 'xd'])
    assert.deepEqual(await logins({ limit: 2, after: `${stem}a` }), ['b', 'c'])
    assert.deepEqual(await logins({ loginPrefix: `${stem}_` }), ['_d'])
    assert.deepEqual(await logins({ twoFactor: 'on' }), ['a'])
    assert.deepEqual(await logins({ twoFactor: 'off' }), ['_d', 'b', 'c', 'xd'])
    assert.deepEqual(await logins({ twoFactor: 'overdue' }), ['b'])
    assert.deepEqual(await logins({ twoFactor: 'overdue', now: new Date(Date.now() - 60_000) }), [])
  })
}
