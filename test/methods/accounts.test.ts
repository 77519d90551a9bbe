// SignUp, SignIn (no 2FA), ChangePassword and GetSigninHistory on real Postgres and Redis, on both transports.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { dictionary } from '@zxcvbn-ts/language-common'
import { startTestApp, strongPassword, uniqueLogin, type TestApp } from '../support/app.js'
import { assertNear, call, fails, isoMs, list, ok, transports, type Json } from '../support/calls.js'

let t: TestApp
before(async () => {
  // Many deliberate failures come from one IP here; limits have their own suite.
  t = await startTestApp({ SIGNIN_MAX_PER_IP: '100000', SIGNIN_MAX_PER_LOGIN_IP: '1000' })
})
after(async () => {
  await t?.close()
})

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const dayMs = 24 * 60 * 60 * 1000

/** data.errors must be a non-empty list naming `field`. */
function assertFieldError(data: Json, field: string): void {
  const errors = list(data['errors'])
  assert.ok(errors.length > 0, 'data.errors is empty')
  assert.ok(
    errors.some((e) => typeof e['field'] === 'string' && (e['field'] === field || e['field'].startsWith(`${field}/`))),
    `no error names ${field}: ${JSON.stringify(errors)}`,
  )
}

async function signInOk(login: string, password: string): Promise<string> {
  const result = await ok(t, 'api', 'SignIn', { login, password })
  assert.equal(typeof result['session'], 'string')
  return String(result['session'])
}

describe('SignUp', () => {
  for (const transport of transports) {
    test(`creates an account and answers {accountId, login} (${transport})`, async () => {
      const login = uniqueLogin('signup')
      const result = await ok(t, transport, 'SignUp', { login, password: strongPassword() })
      assert.deepEqual(Object.keys(result).sort(), ['accountId', 'login'])
      assert.match(String(result['accountId']), uuidPattern)
      assert.equal(result['login'], login)
    })
  }

  test('the same login twice is CONFLICT, and the first password still works', async () => {
    const login = uniqueLogin('twice')
    const first = strongPassword()
    await ok(t, 'api', 'SignUp', { login, password: first })
    await fails(t, 'api', 'SignUp', 'CONFLICT', { login, password: strongPassword() })
    await signInOk(login, first)
  })

  test('logins are case-insensitive: Alice@x.io then alice@x.io is CONFLICT; SignIn works with either case', async () => {
    const stem = uniqueLogin('Alice').replace('@example.com', '')
    const mixed = `${stem}@X.io`
    const lower = mixed.toLowerCase()
    const password = strongPassword()
    const created = await ok(t, 'rpc', 'SignUp', { login: mixed, password })
    assert.equal(created['login'], lower, 'the login is reported in its canonical (lower-case) form')
    for (const transport of transports)
      await fails(t, transport, 'SignUp', 'CONFLICT', { login: lower, password: strongPassword() })
    await fails(t, 'api', 'SignUp', 'CONFLICT', { login: mixed.toUpperCase(), password: strongPassword() })
    for (const login of [mixed, lower, mixed.toUpperCase()]) {
      const session = await signInOk(login, password)
      const me = await ok(t, 'api', 'GetSession', {}, { bearer: session })
      assert.equal(me['accountId'], created['accountId'], `${login} signs in to the one account`)
    }
  })

  test('logins at the edges of the rules are accepted', async () => {
    const suffix = Date.now().toString(36)
    for (const login of [
      `a${suffix}`.slice(0, 3),
      `x.y_z-w@v+${suffix}`,
      `${'l'.repeat(254 - suffix.length)}${suffix}`,
    ]) {
      const result = await ok(t, 'api', 'SignUp', { login, password: 'Zq9!xw7k-Pl' })
      assert.equal(result['login'], login)
    }
  })

  const badLogins: Array<[string, unknown]> = [
    ['too short', 'ab'],
    ['empty', ''],
    ['255 characters', 'l'.repeat(255)],
    ['a space', 'has space@x.io'],
    ['a slash', 'a/b@x.io'],
    ['a semicolon', 'a;b@x.io'],
    ['a non-ASCII letter', 'jürgen@x.io'],
    ['a newline', 'abc\n@x.io'],
    ['not a string', 12345],
  ]
  for (const [what, login] of badLogins) {
    test(`a login with ${what} is INVALID_PARAMS naming /login`, async () => {
      for (const transport of transports) {
        const failure = await fails(t, transport, 'SignUp', 'INVALID_PARAMS', { login, password: strongPassword() })
        assertFieldError(failure.data, '/login')
      }
    })
  }

  test('a missing password or login is INVALID_PARAMS', async () => {
    assertFieldError((await fails(t, 'api', 'SignUp', 'INVALID_PARAMS', { login: uniqueLogin() })).data, '/password')
    assertFieldError((await fails(t, 'api', 'SignUp', 'INVALID_PARAMS', { password: strongPassword() })).data, '/login')
  })

  test('unknown params are INVALID_PARAMS and create nothing', async () => {
    const login = uniqueLogin('extra')
    const password = strongPassword()
    for (const transport of transports) {
      const failure = await fails(t, transport, 'SignUp', 'INVALID_PARAMS', { login, password, isAdmin: true })
      assert.ok(list(failure.data['errors']).length > 0)
    }
    await ok(t, 'api', 'SignUp', { login, password })
  })

  test('email is optional: without it the account is created', async () => {
    await ok(t, 'api', 'SignUp', { login: uniqueLogin('noemail'), password: strongPassword() })
  })

  test('email is optional: with a valid address the account is created', async () => {
    const login = uniqueLogin('withemail')
    const reply = await call(t, 'api', 'SignUp', { login, password: strongPassword(), email: 'someone@example.com' })
    assert.ok(
      reply.ok,
      `SignUp with email answered ${JSON.stringify(reply.ok ? null : reply.data)} (src/methods/schemas.ts registers no 'email' format)`,
    )
  })

  test('a malformed email is INVALID_PARAMS naming /email', async () => {
    const failure = await fails(t, 'api', 'SignUp', 'INVALID_PARAMS', {
      login: uniqueLogin(),
      password: strongPassword(),
      email: 'not an address',
    })
    assertFieldError(failure.data, '/email')
  })
})

describe('SignUp password rules', () => {
  /** The password is refused with a reason in data.errors naming /password; no account appears (the login stays free). */
  async function refused(password: string, login = uniqueLogin('weak')): Promise<string> {
    let reasons = ''
    for (const transport of transports) {
      const failure = await fails(t, transport, 'SignUp', 'INVALID_PARAMS', { login, password })
      assertFieldError(failure.data, '/password')
      assert.ok(!JSON.stringify(failure).includes(password), 'the error echoes the password')
      reasons = JSON.stringify(failure.data['errors'])
    }
    await ok(t, 'api', 'SignUp', { login, password: strongPassword() })
    return reasons
  }

  test('7 characters is too short; 8 is enough', async () => {
    await refused('Zq9!xw7')
    await ok(t, 'api', 'SignUp', { login: uniqueLogin(), password: 'Zq9!xw7k' })
  })

  test('length counts code points: 7 emoji are too short although they are 14 UTF-16 units', async () => {
    await refused('😀🙃😎🤖👾🦊🐙')
  })

  test('256 code points are accepted (512 UTF-16 units) and 257 are refused', async () => {
    const emoji = [...'😀🙃😎🤖👾🦊🐙🐳']
    const longest = Array.from({ length: 256 }, (_, i) => emoji[i % emoji.length]).join('')
    assert.equal([...longest].length, 256)
    const login = uniqueLogin('long')
    await ok(t, 'api', 'SignUp', { login, password: longest })
    await signInOk(login, longest)
    await refused(`${longest}😀`)
  })

  test('a common password is refused ("password1" is on @zxcvbn-ts/language-common\'s list)', async () => {
    const common = dictionary['passwords-common']
    assert.ok(common.length >= 10_000, `the list holds ${common.length} entries`)
    assert.ok(common.includes('password1'))
    assert.ok(common.includes('baseball'))
    const reasons = await refused('password1')
    assert.match(reasons, /common/i)
    await refused('baseball')
  })

  test('a common password in full-width form is refused too (rules apply to the NFKC form)', async () => {
    assert.equal('ｐａｓｓｗｏｒｄ１'.normalize('NFKC'), 'password1')
    await refused('ｐａｓｓｗｏｒｄ１')
  })

  test('a password containing the login is refused, in any case', async () => {
    const login = uniqueLogin('mallory')
    assert.match(await refused(`Zq9!${login}#7`, login), /login/i)
    const shouting = uniqueLogin('mallory')
    await refused(`Zq9!${shouting.toUpperCase()}#7`, shouting)
  })
})

describe('SignIn without 2FA', () => {
  for (const transport of transports) {
    test(`answers an lks_ session expiring in about 24 hours (${transport})`, async () => {
      const { login, password } = await t.signUp()
      const before = Date.now()
      const result = await ok(t, transport, 'SignIn', { login, password })
      const after = Date.now()
      assert.deepEqual(Object.keys(result).sort(), ['expiresAt', 'session'])
      assert.match(String(result['session']), /^lks_[0-9A-Za-z]{22,}$/)
      const expiresAt = isoMs(result['expiresAt'])
      assert.ok(
        expiresAt >= before + dayMs - 1000 && expiresAt <= after + dayMs + 1000,
        `expiresAt ${String(result['expiresAt'])}`,
      )
      const me = await ok(t, transport, 'GetSession', {}, { bearer: String(result['session']) })
      assert.equal(me['login'], login)
    })
  }

  test('each sign-in issues a new, different session', async () => {
    const { login, password } = await t.signUp()
    const sessions = new Set<string>()
    for (let i = 0; i < 5; i++) sessions.add(await signInOk(login, password))
    assert.equal(sessions.size, 5)
  })

  test('a wrong password is INVALID_CREDENTIALS and issues nothing', async () => {
    const { login, password } = await t.signUp()
    for (const transport of transports) {
      const failure = await fails(t, transport, 'SignIn', 'INVALID_CREDENTIALS', { login, password: `${password}x` })
      assert.ok(!JSON.stringify(failure).includes('lks_'))
    }
  })

  test('unknown login and wrong password give the identical reason, code, message and data', async () => {
    const { login, password } = await t.signUp()
    for (const transport of transports) {
      const wrong = await fails(t, transport, 'SignIn', 'INVALID_CREDENTIALS', { login, password: `${password}!` })
      const unknown = await fails(t, transport, 'SignIn', 'INVALID_CREDENTIALS', {
        login: uniqueLogin('ghost'),
        password: `${password}!`,
      })
      assert.deepEqual({ ...unknown, headers: undefined }, { ...wrong, headers: undefined })
      assert.ok(
        !/unknown|no such|not exist|not found/i.test(wrong.message),
        `the message tells the cases apart: ${wrong.message}`,
      )
    }
  })

  test('a password too short for the rules is just INVALID_CREDENTIALS at sign-in (no hint about the rules)', async () => {
    const { login } = await t.signUp()
    await fails(t, 'api', 'SignIn', 'INVALID_CREDENTIALS', { login, password: 'short' })
  })

  test('every byte counts: two passwords sharing their first 80 bytes are different passwords', async () => {
    for (const head of ['Q7!z'.repeat(20), 'é'.repeat(40)]) {
      assert.equal(Buffer.byteLength(head, 'utf8'), 80)
      const login = uniqueLogin('long72')
      const mine = `${head}-tail-one`
      const other = `${head}-tail-two`
      await ok(t, 'api', 'SignUp', { login, password: mine })
      for (const transport of transports)
        await fails(t, transport, 'SignIn', 'INVALID_CREDENTIALS', { login, password: other })
      await fails(t, 'api', 'SignIn', 'INVALID_CREDENTIALS', { login, password: head })
      await signInOk(login, mine)
    }
  })

  test('NFKC: a password signed up in full-width or ligature form signs in with its NFKC equivalent, and back', async () => {
    const cases: Array<[string, string]> = [
      ['Ｔｒｏｕｂ４ｄｏｒ＆ｚｑ', 'Troub4dor&zq'],
      ['ﬁreﬂy-Zq83!x', 'firefly-Zq83!x'],
      ['Ⅻ-Zq83!x-ℌ', 'XII-Zq83!x-H'],
    ]
    for (const [variant, normal] of cases) {
      assert.equal(variant.normalize('NFKC'), normal)
      const first = uniqueLogin('nfkc')
      await ok(t, 'api', 'SignUp', { login: first, password: variant })
      await signInOk(first, normal)
      await signInOk(first, variant)
      // A control: a password that is not NFKC-equivalent must still fail.
      await fails(t, 'api', 'SignIn', 'INVALID_CREDENTIALS', { login: first, password: normal.toUpperCase() })

      const second = uniqueLogin('nfkc')
      await ok(t, 'api', 'SignUp', { login: second, password: normal })
      await signInOk(second, variant)
    }
  })

  test('SignIn params are validated: unknown params and a missing password are INVALID_PARAMS', async () => {
    const { login, password } = await t.signUp()
    await fails(t, 'api', 'SignIn', 'INVALID_PARAMS', { login, password, remember: true })
    assertFieldError((await fails(t, 'rpc', 'SignIn', 'INVALID_PARAMS', { login })).data, '/password')
  })
})

describe('ChangePassword ★', () => {
  test('a wrong current password is INVALID_CREDENTIALS and changes nothing', async () => {
    const { login, password } = await t.signUp()
    const s1 = await signInOk(login, password)
    const s2 = await signInOk(login, password)
    const newPassword = strongPassword()
    for (const transport of transports) {
      await fails(
        t,
        transport,
        'ChangePassword',
        'INVALID_CREDENTIALS',
        { password: `${password}x`, newPassword },
        { bearer: s1 },
      )
    }
    await ok(t, 'api', 'GetSession', {}, { bearer: s2 })
    await signInOk(login, password)
    await fails(t, 'api', 'SignIn', 'INVALID_CREDENTIALS', { login, password: newPassword })
  })

  test('a weak newPassword is INVALID_PARAMS naming /newPassword and changes nothing', async () => {
    const { login, password } = await t.signUp()
    const s1 = await signInOk(login, password)
    const s2 = await signInOk(login, password)
    for (const newPassword of ['password1', 'Zq9!xw7', `Zq9!${login}#7`, '😀'.repeat(257)]) {
      for (const transport of transports) {
        const failure = await fails(
          t,
          transport,
          'ChangePassword',
          'INVALID_PARAMS',
          { password, newPassword },
          { bearer: s1 },
        )
        assertFieldError(failure.data, '/newPassword')
      }
    }
    await ok(t, 'api', 'GetSession', {}, { bearer: s2 })
    await signInOk(login, password)
  })

  test('the password and a credential are required', async () => {
    const { login, password } = await t.signUp()
    const session = await signInOk(login, password)
    assertFieldError(
      (
        await fails(
          t,
          'api',
          'ChangePassword',
          'INVALID_PARAMS',
          { newPassword: strongPassword() },
          { bearer: session },
        )
      ).data,
      '/password',
    )
    await fails(t, 'api', 'ChangePassword', 'UNAUTHENTICATED', { password, newPassword: strongPassword() })
  })

  for (const transport of transports) {
    test(`success ends every other session, keeps the calling one, and swaps the passwords (${transport})`, async () => {
      const { login, password } = await t.signUp()
      const bystander = await t.signUp()
      const bystanderSession = await signInOk(bystander.login, bystander.password)
      const caller = await signInOk(login, password)
      const others = [await signInOk(login, password), await signInOk(login, password)]
      const newPassword = strongPassword()

      const result = await ok(t, transport, 'ChangePassword', { password, newPassword }, { bearer: caller })
      assert.deepEqual(result, {})

      const me = await ok(t, 'api', 'GetSession', {}, { bearer: caller })
      assert.equal(me['login'], login)
      for (const other of others) await fails(t, 'api', 'GetSession', 'UNAUTHENTICATED', {}, { bearer: other })
      const listed = list((await ok(t, 'api', 'GetSessions', {}, { bearer: caller }))['sessions'])
      assert.equal(listed.length, 1)
      assert.equal(listed[0]?.['current'], true)
      await ok(t, 'api', 'GetSession', {}, { bearer: bystanderSession })

      await fails(t, 'api', 'SignIn', 'INVALID_CREDENTIALS', { login, password })
      await signInOk(login, newPassword)
      // The new password is now the one ★ methods check.
      await fails(
        t,
        'api',
        'ChangePassword',
        'INVALID_CREDENTIALS',
        { password, newPassword: strongPassword() },
        { bearer: caller },
      )
    })
  }
})

describe('GetSigninHistory', () => {
  const contractTypes = new Set(['signin.success', 'signin.failure', 'password.changed', 'signout'])
  let session: string
  let events: Json[]
  let otherSession: string

  before(async () => {
    const { login, password } = await t.signUp()
    const first = await t.api('SignIn', { login, password }, { headers: { 'user-agent': 'history-ua/first' } })
    const s1 = String(first.body['session'])
    await fails(
      t,
      'api',
      'SignIn',
      'INVALID_CREDENTIALS',
      { login, password: 'not-the-password' },
      { headers: { 'user-agent': 'history-ua/failure' } },
    )
    await signInOk(login, password)
    const newPassword = strongPassword()
    await ok(
      t,
      'api',
      'ChangePassword',
      { password, newPassword },
      { bearer: s1, headers: { 'user-agent': 'history-ua/change' } },
    )
    await ok(t, 'api', 'SignOut', {}, { bearer: s1, headers: { 'user-agent': 'history-ua/signout' } })
    session = await signInOk(login, newPassword)
    events = list((await ok(t, 'api', 'GetSigninHistory', { limit: 100 }, { bearer: session }))['events'])
    const other = await t.signUp()
    otherSession = await signInOk(other.login, other.password)
  })

  test('lists the events newest first, in the order they happened', () => {
    const types = events.map((e) => e['type']).filter((type) => typeof type === 'string' && contractTypes.has(type))
    assert.deepEqual(types, [
      'signin.success',
      'signout',
      'password.changed',
      'signin.success',
      'signin.failure',
      'signin.success',
    ])
    const times = events.map((e) => isoMs(e['at']))
    for (let i = 1; i < times.length; i++)
      assert.ok((times[i - 1] ?? 0) >= (times[i] ?? 0), `event ${i} is newer than event ${i - 1}`)
    assertNear(times[0] ?? 0, Date.now(), 60_000, 'the newest event')
  })

  test('each event has type, at, ip and userAgent of the call that caused it', () => {
    for (const event of events) {
      assert.equal(typeof event['type'], 'string')
      isoMs(event['at'])
      assert.ok('ip' in event && 'userAgent' in event, JSON.stringify(event))
    }
    const byAgent = (ua: string) => events.find((e) => e['userAgent'] === ua)
    assert.equal(byAgent('history-ua/failure')?.['type'], 'signin.failure')
    assert.equal(byAgent('history-ua/first')?.['type'], 'signin.success')
    assert.equal(byAgent('history-ua/change')?.['type'], 'password.changed')
    assert.equal(byAgent('history-ua/signout')?.['type'], 'signout')
    assert.equal(byAgent('history-ua/failure')?.['ip'], '127.0.0.1')
  })

  test('limit takes the newest events; the default is 20', async () => {
    const two = list((await ok(t, 'rpc', 'GetSigninHistory', { limit: 2 }, { bearer: session }))['events'])
    assert.deepEqual(two, events.slice(0, 2))
    const one = list((await ok(t, 'api', 'GetSigninHistory', { limit: 1 }, { bearer: session }))['events'])
    assert.deepEqual(one, events.slice(0, 1))

    const { login, password } = await t.signUp()
    for (let i = 0; i < 22; i++) await signInOk(login, password)
    const busy = await signInOk(login, password)
    const byDefault = list((await ok(t, 'api', 'GetSigninHistory', {}, { bearer: busy }))['events'])
    assert.equal(byDefault.length, 20)
    const all = list((await ok(t, 'api', 'GetSigninHistory', { limit: 100 }, { bearer: busy }))['events'])
    assert.ok(all.length >= 24, `${all.length} events`)
    assert.deepEqual(byDefault, all.slice(0, 20))
  })

  test('limit outside 1–100 or not an integer is INVALID_PARAMS', async () => {
    for (const limit of [0, -1, 101, 1000, 1.5, '5', null]) {
      for (const transport of transports) {
        const failure = await fails(t, transport, 'GetSigninHistory', 'INVALID_PARAMS', { limit }, { bearer: session })
        assertFieldError(failure.data, '/limit')
      }
    }
    await ok(t, 'api', 'GetSigninHistory', { limit: 100 }, { bearer: session })
  })

  test('an account sees only its own events', async () => {
    const others = list((await ok(t, 'api', 'GetSigninHistory', { limit: 100 }, { bearer: otherSession }))['events'])
    assert.ok(others.length >= 1)
    assert.ok(!others.some((e) => typeof e['userAgent'] === 'string' && e['userAgent'].startsWith('history-ua/')))
    assert.ok(!others.some((e) => e['type'] === 'signin.failure' || e['type'] === 'password.changed'))
  })

  test('needs a session', async () => {
    await fails(t, 'api', 'GetSigninHistory', 'UNAUTHENTICATED', {})
  })
})
