/**
 * AdminListAccounts: keyset pages in login order (no duplicates, no gaps, a null cursor on the
 * last page), the twoFactor filters that make the compliance report, and the login prefix.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { startTestApp, type TestApp } from '../support/app.js'
import { fails, list, ok, transports, type Json, type Transport } from '../support/calls.js'
import { keyOf, operators } from '../support/operators.js'
import { codeAt } from '../support/two-factor.js'

const ops = operators('compliance')
const asOperator = { bearer: keyOf(ops, 'compliance') }
// Upper case in the stem: logins are stored in lower case and the prefix filter ignores case.
const stem = `LIST${randomBytes(4).toString('hex')}`
const login = (name: string) => `${stem}${name}@example.com`
const canonical = (name: string) => login(name).toLowerCase()

let t: TestApp

async function enrol(name: string): Promise<void> {
  const { password } = await t.signUp(login(name))
  const session = await t.signIn(login(name), password)
  const config = await ok(t, 'api', 'Get2FAConfig', { password }, { bearer: session })
  await ok(t, 'api', 'Enable2FA', { code: await codeAt(String(config['secret']), -1) }, { bearer: session })
}

const require2FA = (name: string, graceDays: number) =>
  ok(t, 'api', 'AdminRequire2FA', { login: login(name), required: true, graceDays, reason: 'test' }, asOperator)

before(async () => {
  t = await startTestApp(ops.env)
  await enrol('-a')
  await enrol('-b')
  for (const name of ['-c', '-d', '-f', '-g', '_u', 'zu']) await t.signUp(login(name))
  await require2FA('-b', 0) // 2FA on: required but never overdue
  await require2FA('-c', 0) // overdue at once
  await require2FA('-d', 7) // not yet
  await ok(t, 'api', 'AdminLockAccount', { login: login('-f'), reason: 'test' }, asOperator)
})
after(() => t.close())

/** Every page under these params, checking each page's size and cursor on the way. */
async function allPages(transport: Transport, params: Json, limit: number): Promise<Json[]> {
  const accounts: Json[] = []
  let cursor: string | null = null
  for (let page = 0; page < 50; page++) {
    const reply = await ok(
      t,
      transport,
      'AdminListAccounts',
      { ...params, limit, ...(cursor === null ? {} : { cursor }) },
      asOperator,
    )
    const items = list(reply['accounts'])
    const next = reply['nextCursor']
    assert.ok(items.length <= limit)
    if (next === null) {
      accounts.push(...items)
      return accounts
    }
    assert.equal(typeof next, 'string')
    assert.equal(items.length, limit, 'only the last page is short')
    accounts.push(...items)
    cursor = String(next)
  }
  assert.fail('more pages than accounts')
}

const logins = (accounts: Json[]) => accounts.map((a) => String(a['login']))

for (const transport of transports) {
  describe(`AdminListAccounts over ${transport}`, () => {
    test('pages through every account once, in login order, whatever the page size', async () => {
      const expected = ['-a', '-b', '-c', '-d', '-f', '-g', '_u', 'zu'].map(canonical).sort()
      for (const limit of [1, 3, 8, 500]) {
        const accounts = await allPages(transport, { loginPrefix: stem }, limit)
        assert.deepEqual(logins(accounts), expected, `limit ${limit}`)
      }
      const [first] = await allPages(transport, { loginPrefix: login('-f') }, 10)
      assert.ok(first !== undefined)
      assert.deepEqual(Object.keys(first).sort(), [
        'accountId',
        'createdAt',
        'locked',
        'login',
        'twoFactorEnabled',
        'twoFactorRequiredBy',
      ])
      assert.equal(first['locked'], true)
      // A page exactly full at the end still says there is no next page.
      const exact = await ok(t, transport, 'AdminListAccounts', { loginPrefix: stem, limit: 8 }, asOperator)
      assert.equal(list(exact['accounts']).length, 8)
      assert.equal(exact['nextCursor'], null)
    })

    test('twoFactor filters: on, off, and overdue (the compliance report)', async () => {
      const on = await allPages(transport, { loginPrefix: stem, twoFactor: 'on' }, 2)
      assert.deepEqual(logins(on), [canonical('-a'), canonical('-b')])
      assert.ok(on.every((a) => a['twoFactorEnabled'] === true))
      const off = await allPages(transport, { loginPrefix: stem, twoFactor: 'off' }, 2)
      assert.deepEqual(logins(off), ['-c', '-d', '-f', '-g', '_u', 'zu'].map(canonical).sort())
      const overdue = await allPages(transport, { loginPrefix: stem, twoFactor: 'overdue' }, 2)
      assert.deepEqual(logins(overdue), [canonical('-c')])
      assert.ok(Date.parse(String(overdue[0]?.['twoFactorRequiredBy'])) <= Date.now())
    })

    test('the login prefix is literal: _ is not a wildcard', async () => {
      assert.deepEqual(logins(await allPages(transport, { loginPrefix: `${stem}_` }, 10)), [canonical('_u')])
      assert.deepEqual(logins(await allPages(transport, { loginPrefix: `${stem}%` }, 10)), [])
    })

    test('refuses bad limits and cursors it did not make', async () => {
      for (const limit of [0, 501, 2.5])
        await fails(t, transport, 'AdminListAccounts', 'INVALID_PARAMS', { limit }, asOperator)
      await fails(t, transport, 'AdminListAccounts', 'INVALID_PARAMS', { twoFactor: 'maybe' }, asOperator)
      for (const cursor of ['nope', Buffer.from('v2:someone').toString('base64url'), 'dj E6'])
        await fails(t, transport, 'AdminListAccounts', 'INVALID_PARAMS', { cursor }, asOperator)
      // The default page is 100 accounts.
      const page = await ok(t, transport, 'AdminListAccounts', {}, asOperator)
      assert.ok(list(page['accounts']).length <= 100)
    })
  })
}
