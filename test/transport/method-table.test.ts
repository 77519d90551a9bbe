// Invariants over the whole method table, checked against the running pipeline.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { pipelineReasons } from '../../src/rpc/define-method.js'
import { methodTable } from '../../src/rpc/methods.js'
import { newAdminKey } from '../../src/domain/credentials.js'
import { adminKeyEntry } from '../../src/domain/admin-keys.js'
import { startTestApp, type TestApp } from '../support/app.js'

const contractMethods = [
  'SignUp',
  'SignIn',
  'Verify2FACode',
  'SignOut',
  'GetSession',
  'GetSessions',
  'SignOutSessions',
  'ChangePassword',
  'Get2FAStatus',
  'Get2FAConfig',
  'Enable2FA',
  'GetRecoveryCodes',
  'RegenerateRecoveryCodes',
  'Disable2FA',
  'CreateToken',
  'GetTokens',
  'EditToken',
  'RegenerateToken',
  'DeleteTokens',
  'GetTokenApiList',
  'GetSigninHistory',
  'AdminGetAccount',
  'AdminListAccounts',
  'AdminDisable2FA',
  'AdminRequire2FA',
  'AdminLockAccount',
  'AdminUnlockAccount',
  'AdminSignOut',
  'AdminGetSigninHistory',
]
const adminChanges = ['AdminDisable2FA', 'AdminRequire2FA', 'AdminLockAccount', 'AdminUnlockAccount', 'AdminSignOut']
/** What a session may still call once an operator's 2FA deadline has passed (the contract's list). */
const duringTwoFactorSetup = ['GetSession', 'Get2FAStatus', 'Get2FAConfig', 'Enable2FA', 'SignOut']
const sensitiveInContract = [
  'ChangePassword',
  'Get2FAConfig',
  'GetRecoveryCodes',
  'RegenerateRecoveryCodes',
  'Disable2FA',
  'CreateToken',
  'EditToken',
  'RegenerateToken',
  'DeleteTokens',
]

let t: TestApp
let pat: string
let session: string
let password: string
const operatorKey = newAdminKey()

before(async () => {
  t = await startTestApp({ ADMIN_API_KEYS: adminKeyEntry('invariants', operatorKey) })
  const account = await t.signUp()
  password = account.password
  session = await t.signIn(account.login, account.password)
  const created = await t.api('CreateToken', { password, description: 'invariants' }, { bearer: session })
  assert.equal(created.status, 200, JSON.stringify(created.body))
  pat = String(created.body['token'])
})
after(() => t.close())

test('the table holds exactly the contract methods, each once', () => {
  assert.deepEqual(methodTable.map((m) => m.name).sort(), [...contractMethods].sort())
})

test('every method that takes no credential counts against the per-IP anonymous call limit', () => {
  for (const method of methodTable) {
    assert.equal(method.auth === 'none', method.limits?.includes('anonymous') === true, method.name)
    if (method.limits?.length) assert.ok(pipelineReasons(method).includes('RATE_LIMITED'), method.name)
  }
  assert.deepEqual(methodTable.find((m) => m.name === 'SignUp')?.limits, ['anonymous', 'signUp'])
})

test('sensitive methods are exactly the ★ ones, need a session and take the password', () => {
  assert.deepEqual(
    methodTable
      .filter((m) => m.sensitive)
      .map((m) => m.name)
      .sort(),
    [...sensitiveInContract].sort(),
  )
  for (const m of methodTable.filter((x) => x.sensitive)) {
    assert.equal(m.auth, 'session', m.name)
    assert.ok(m.params.required?.includes('password'), `${m.name} requires password`)
  }
})

test("a method's errors list only what it adds to the pipeline's own reasons", () => {
  for (const m of methodTable) {
    const own = new Set(pipelineReasons(m))
    assert.deepEqual(
      m.errors.filter((reason) => own.has(reason)),
      [],
      `${m.name} restates reasons the pipeline derives from its definition`,
    )
  }
})

test('every params schema refuses unknown members and none declares `session`', () => {
  for (const m of methodTable) {
    assert.equal(m.params.additionalProperties, false, m.name)
    assert.ok(!('session' in m.params.properties), m.name)
    assert.ok(m.summary.length > 10, `${m.name} has a summary`)
  }
})

/** Valid-looking values for each method's required params, so calls get past validation. */
function requiredParams(m: (typeof methodTable)[number]): Record<string, unknown> {
  const samples: Record<string, unknown> = {
    password,
    ids: '*',
    id: '00000000-0000-4000-8000-000000000000',
    code: '123456',
    description: 'x',
    newPassword: 'An0ther-l0ng-passw0rd',
    twoFactorToken: 'lk2_x',
    login: 'someone@example.com',
    reason: 'invariant test',
    required: true,
  }
  return Object.fromEntries((m.params.required ?? []).map((key) => [key, samples[key]]))
}

test('every method that needs a credential answers UNAUTHENTICATED without one, and with a bad one', async () => {
  for (const m of methodTable.filter((x) => x.auth !== 'none')) {
    for (const bearer of [undefined, 'lks_not-a-real-session', 'lkp_0000', newAdminKey()]) {
      const r = await t.api(m.name, requiredParams(m), bearer === undefined ? {} : { bearer })
      assert.equal(
        r.body.error?.data['reason'],
        'UNAUTHENTICATED',
        `${m.name} ${String(bearer)}: ${JSON.stringify(r.body)}`,
      )
    }
  }
})

test('a personal access token never reaches a session-only or ★ method', async () => {
  for (const m of methodTable.filter((x) => x.auth === 'session')) {
    const r = await t.api(m.name, requiredParams(m), { bearer: pat })
    assert.equal(r.body.error?.data['reason'], 'FORBIDDEN', `${m.name}: ${JSON.stringify(r.body)}`)
  }
})

test('admin methods: never sensitive, name the account by login, and every change takes a reason of 1–500', () => {
  for (const m of methodTable.filter((x) => x.auth === 'admin')) {
    assert.equal(m.sensitive, false, m.name)
    assert.ok(m.name.startsWith('Admin'), m.name)
    if (m.name !== 'AdminListAccounts') assert.ok(m.params.required?.includes('login'), `${m.name} takes login`)
    assert.ok(m.errors.includes('NOT_FOUND') || m.name === 'AdminListAccounts', `${m.name} documents NOT_FOUND`)
  }
  for (const name of adminChanges) {
    const m = methodTable.find((x) => x.name === name)
    assert.ok(m !== undefined, name)
    assert.ok(m.params.required?.includes('reason'), `${name} requires reason`)
    const reason = m.params.properties['reason'] as { minLength?: number; maxLength?: number }
    assert.deepEqual([reason.minLength, reason.maxLength], [1, 500], name)
  }
})

test('exactly the contract methods stay open while 2FA setup is overdue', () => {
  assert.deepEqual(
    methodTable
      .filter((m) => m.allowedDuringTwoFactorSetup === true)
      .map((m) => m.name)
      .sort(),
    [...duringTwoFactorSetup].sort(),
  )
  for (const m of methodTable.filter((x) => x.allowedDuringTwoFactorSetup === true))
    assert.ok(m.auth === 'session' || m.auth === 'any', m.name)
})

test('a session or a PAT never reaches an admin method', async () => {
  for (const m of methodTable.filter((x) => x.auth === 'admin')) {
    for (const bearer of [session, pat]) {
      const r = await t.api(m.name, requiredParams(m), { bearer })
      assert.equal(
        r.body.error?.data['reason'],
        'FORBIDDEN',
        `${m.name} ${bearer.slice(0, 4)}: ${JSON.stringify(r.body)}`,
      )
    }
  }
})

test('an operator key reaches no method but the admin ones, whatever its auth mode', async () => {
  for (const m of methodTable.filter((x) => x.auth !== 'admin')) {
    const r = await t.api(m.name, requiredParams(m), { bearer: operatorKey })
    assert.equal(r.body.error?.data['reason'], 'FORBIDDEN', `${m.name}: ${JSON.stringify(r.body)}`)
  }
  for (const m of methodTable.filter((x) => x.auth === 'admin')) {
    const r = await t.api(m.name, requiredParams(m), { bearer: operatorKey })
    // Past authorization: the sample login names no account.
    assert.notEqual(r.body.error?.data['reason'], 'FORBIDDEN', `${m.name}: ${JSON.stringify(r.body)}`)
    assert.notEqual(r.body.error?.data['reason'], 'UNAUTHENTICATED', `${m.name}: ${JSON.stringify(r.body)}`)
  }
})
