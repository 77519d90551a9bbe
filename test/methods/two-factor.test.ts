import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { PNG } from 'pngjs'
import jsqr from 'jsqr'
import * as OTPAuth from 'otpauth'
import { startTestApp, type TestApp } from '../support/app.js'
import { call, fails, ok, transports } from '../support/calls.js'
import { codeAt, enrolledAccount, pendingToken, totpCode, wrongCode } from '../support/two-factor.js'

const recoveryFormat = /^[a-z0-9]{5}-[a-z0-9]{5}$/

let t: TestApp
before(async () => {
  t = await startTestApp()
})
after(async () => {
  await t?.close()
})

for (const transport of transports) {
  describe(`2FA lifecycle over ${transport}`, () => {
    test('enrol, sign in with TOTP and recovery codes, regenerate, disable', async () => {
      const { login, password } = await t.signUp()
      const session = await t.signIn(login, password)
      const as = { bearer: session }

      assert.deepEqual(await ok(t, transport, 'Get2FAStatus', {}, as), {
        enabled: false,
        enabledAt: null,
        recoveryCodesLeft: 0,
        required: false,
        requiredBy: null,
      })
      await fails(t, transport, 'Enable2FA', 'CONFLICT', { code: '123456' }, as)
      await fails(t, transport, 'Get2FAConfig', 'INVALID_CREDENTIALS', { password: `${password}x` }, as)
      await fails(t, transport, 'Get2FAConfig', 'INVALID_PARAMS', {}, as)

      // A second Get2FAConfig restarts the enrolment: the first secret no longer enables.
      const first = await ok(t, transport, 'Get2FAConfig', { password }, as)
      const config = await ok(t, transport, 'Get2FAConfig', { password }, as)
      const secret = String(config['secret'])
      assert.notEqual(secret, first['secret'])
      assert.match(String(config['qrCode']), /^data:image\/png;base64,[A-Za-z0-9+/]+=*$/)
      const stale = await fails(
        t,
        transport,
        'Enable2FA',
        'INVALID_2FA_CODE',
        { code: await codeAt(String(first['secret']), 0) },
        as,
      )
      assert.equal(stale.data['attemptsLeft'], 4)

      const enrollingCode = await codeAt(secret, -1)
      const enabled = await ok(t, transport, 'Enable2FA', { code: enrollingCode }, as)
      const recoveryCodes = enabled['recoveryCodes']
      assert.ok(Array.isArray(recoveryCodes) && recoveryCodes.length === 10)
      const codes = recoveryCodes.map(String)
      for (const code of codes) assert.match(code, recoveryFormat)
      assert.equal(new Set(codes).size, 10)

      // The session that enabled 2FA already reports it (Redis copy refreshed).
      assert.equal((await ok(t, transport, 'GetSession', {}, as))['twoFactorEnabled'], true)
      const status = await ok(t, transport, 'Get2FAStatus', {}, as)
      assert.equal(status['enabled'], true)
      assert.ok(Math.abs(Date.parse(String(status['enabledAt'])) - Date.now()) < 60_000)
      assert.equal(status['recoveryCodesLeft'], 10)
      await fails(t, transport, 'Get2FAConfig', 'CONFLICT', { password }, as)
      await fails(t, transport, 'Enable2FA', 'CONFLICT', { code: await codeAt(secret, 0) }, as)

      // SignIn now stops half-way; the code that enabled 2FA is spent and cannot open a sign-in.
      const token = await pendingToken(t, transport, login, password)
      const replay = await fails(t, transport, 'Verify2FACode', 'INVALID_2FA_CODE', {
        twoFactorToken: token,
        code: enrollingCode,
      })
      assert.equal(replay.data['attemptsLeft'], 4)
      const verified = await ok(t, transport, 'Verify2FACode', { twoFactorToken: token, code: await codeAt(secret, 0) })
      assert.match(String(verified['session']), /^lks_/)
      assert.ok(Date.parse(String(verified['expiresAt'])) > Date.now())
      assert.equal(verified['recoveryCodesLeft'], 10)
      const fresh = await ok(t, transport, 'GetSession', {}, { bearer: String(verified['session']) })
      assert.equal(fresh['authType'], 'session')
      assert.equal(fresh['twoFactorEnabled'], true)
      // The token is consumed by its first success.
      await fails(t, transport, 'Verify2FACode', 'UNAUTHENTICATED', {
        twoFactorToken: token,
        code: await codeAt(secret, 1),
      })

      // Lost phone: a recovery code, typed loosely, works once.
      const [lost, other] = codes
      assert.ok(lost !== undefined && other !== undefined)
      const loose = ` ${lost.toUpperCase().replace('-', ' - ')} `
      const recovered = await ok(t, transport, 'Verify2FACode', {
        twoFactorToken: await pendingToken(t, transport, login, password),
        code: loose,
      })
      assert.match(String(recovered['session']), /^lks_/)
      assert.equal(recovered['recoveryCodesLeft'], 9)
      await fails(t, transport, 'Verify2FACode', 'INVALID_2FA_CODE', {
        twoFactorToken: await pendingToken(t, transport, login, password),
        code: lost,
      })

      const shown = await ok(t, transport, 'GetRecoveryCodes', { password }, as)
      assert.deepEqual(
        shown['recoveryCodes'],
        codes.map((code) => ({ code, used: code === lost })),
      )
      await fails(t, transport, 'GetRecoveryCodes', 'INVALID_CREDENTIALS', { password: `${password}x` }, as)

      // Regenerating kills the whole old set, used or not.
      const regenerated = await ok(t, transport, 'RegenerateRecoveryCodes', { password }, as)
      const newCodes = (regenerated['recoveryCodes'] as unknown[]).map(String)
      assert.equal(newCodes.length, 10)
      assert.ok(newCodes.every((code) => recoveryFormat.test(code) && !codes.includes(code)))
      assert.deepEqual(
        (await ok(t, transport, 'GetRecoveryCodes', { password }, as))['recoveryCodes'],
        newCodes.map((code) => ({ code, used: false })),
      )
      await fails(t, transport, 'Verify2FACode', 'INVALID_2FA_CODE', {
        twoFactorToken: await pendingToken(t, transport, login, password),
        code: other,
      })
      const withNew = await ok(t, transport, 'Verify2FACode', {
        twoFactorToken: await pendingToken(t, transport, login, password),
        code: newCodes[3],
      })
      assert.equal(withNew['recoveryCodesLeft'], 9)
      assert.equal((await ok(t, transport, 'Get2FAStatus', {}, as))['recoveryCodesLeft'], 9)

      const history = await ok(t, transport, 'GetSigninHistory', { limit: 100 }, as)
      const types = new Set((history['events'] as Array<{ type: string }>).map((e) => e.type))
      for (const type of ['2fa.enabled', '2fa.success', '2fa.failure', 'recovery.used', 'recovery.regenerated'])
        assert.ok(types.has(type), `history has ${type}`)

      await fails(t, transport, 'Disable2FA', 'INVALID_CREDENTIALS', { password: `${password}x` }, as)
      assert.deepEqual(await ok(t, transport, 'Disable2FA', { password }, as), {})
      assert.equal((await ok(t, transport, 'GetSession', {}, as))['twoFactorEnabled'], false)
      assert.deepEqual(await ok(t, transport, 'Get2FAStatus', {}, as), {
        enabled: false,
        enabledAt: null,
        recoveryCodesLeft: 0,
        required: false,
        requiredBy: null,
      })
      await fails(t, transport, 'Disable2FA', 'CONFLICT', { password }, as)
      await fails(t, transport, 'GetRecoveryCodes', 'CONFLICT', { password }, as)
      await fails(t, transport, 'RegenerateRecoveryCodes', 'CONFLICT', { password }, as)
      const direct = await ok(t, transport, 'SignIn', { login, password })
      assert.match(String(direct['session']), /^lks_/)
      assert.equal(direct['twoFactorRequired'], undefined)
      const events = (await ok(t, transport, 'GetSigninHistory', {}, as))['events'] as Array<{ type: string }>
      assert.ok(events.some((e) => e.type === '2fa.disabled'))
    })

    test('an lk2_ token opens nothing but Verify2FACode', async () => {
      const account = await enrolledAccount(t, transport)
      const token = await pendingToken(t, transport, account.login, account.password)
      for (const method of ['GetSession', 'Get2FAStatus', 'GetSessions', 'SignOut', 'GetSigninHistory']) {
        await fails(t, transport, method, 'UNAUTHENTICATED', {}, { bearer: token })
        await fails(t, transport, method, 'UNAUTHENTICATED', { session: token })
      }
      await fails(t, transport, 'Get2FAConfig', 'UNAUTHENTICATED', { password: account.password }, { bearer: token })
      await fails(t, transport, 'Disable2FA', 'UNAUTHENTICATED', { password: account.password, session: token })
      await fails(
        t,
        transport,
        'SignIn',
        'UNAUTHENTICATED',
        { login: account.login, password: account.password },
        { bearer: token },
      )
      // None of that spent an attempt or the token.
      const verified = await ok(t, transport, 'Verify2FACode', {
        twoFactorToken: token,
        code: await codeAt(account.secret, 0),
      })
      assert.match(String(verified['session']), /^lks_/)
    })
  })
}

describe('GetSession reports the 2FA state at once', () => {
  test('for sessions and cached personal access tokens, after Enable2FA and Disable2FA', async () => {
    const { login, password } = await t.signUp()
    const session = await t.signIn(login, password)
    const pat = String(
      (await ok(t, 'api', 'CreateToken', { password, description: '2fa flag' }, { bearer: session }))['token'],
    )
    const flag = async (bearer: string) => (await ok(t, 'api', 'GetSession', {}, { bearer }))['twoFactorEnabled']
    // Both now sit in Redis with the flag off.
    assert.equal(await flag(pat), false)
    assert.equal(await flag(session), false)
    const secret = String((await ok(t, 'api', 'Get2FAConfig', { password }, { bearer: session }))['secret'])
    await ok(t, 'api', 'Enable2FA', { code: await codeAt(secret, -1) }, { bearer: session })
    assert.equal(await flag(pat), true)
    assert.equal(await flag(session), true)
    await ok(t, 'api', 'Disable2FA', { password }, { bearer: session })
    assert.equal(await flag(pat), false)
    assert.equal(await flag(session), false)
    // A PAT never reaches the 2FA methods.
    await fails(t, 'api', 'Get2FAStatus', 'FORBIDDEN', {}, { bearer: pat })
    await fails(t, 'api', 'Get2FAConfig', 'FORBIDDEN', { password }, { bearer: pat })
  })
})

describe('Verify2FACode failures', () => {
  test('attemptsLeft counts 4, 3, 2, 1, 0 over wrong, malformed and replayed codes, then the token is dead', async () => {
    const account = await enrolledAccount(t)
    const token = await pendingToken(t, 'api', account.login, account.password)
    const tries = [wrongCode(account.secret), 'abc', '', '12345678901', await codeAt(account.secret, -1)]
    for (const [i, code] of tries.entries()) {
      const { data } = await fails(t, i % 2 === 0 ? 'api' : 'rpc', 'Verify2FACode', 'INVALID_2FA_CODE', {
        twoFactorToken: token,
        code,
      })
      assert.equal(data['attemptsLeft'], 4 - i)
    }
    await fails(t, 'api', 'Verify2FACode', 'UNAUTHENTICATED', {
      twoFactorToken: token,
      code: await codeAt(account.secret, 0),
    })
    // A new sign-in still works: 5 failures are under the per-account threshold.
    const verified = await ok(t, 'rpc', 'Verify2FACode', {
      twoFactorToken: await pendingToken(t, 'rpc', account.login, account.password),
      code: await codeAt(account.secret, 0),
    })
    assert.match(String(verified['session']), /^lks_/)
  })

  test('parallel guesses on one token get no more checks than its attempts', async () => {
    const account = await enrolledAccount(t)
    const twoFactorToken = await pendingToken(t, 'api', account.login, account.password)
    const code = wrongCode(account.secret)
    const replies = await Promise.all(
      Array.from({ length: 20 }, () => call(t, 'api', 'Verify2FACode', { twoFactorToken, code })),
    )
    const checked = replies.filter((r) => !r.ok && r.reason === 'INVALID_2FA_CODE')
    assert.deepEqual(checked.map((r) => (r.ok ? null : r.data['attemptsLeft'])).sort(), [0, 1, 2, 3, 4])
    // Past the token's attempts: UNAUTHENTICATED; past the account lock's places in flight: RATE_LIMITED, unchecked.
    assert.ok(
      replies.every((r) => !r.ok && ['INVALID_2FA_CODE', 'UNAUTHENTICATED', 'RATE_LIMITED'].includes(String(r.reason))),
    )
  })

  test('unknown or wrong-kind tokens are UNAUTHENTICATED and over-long codes are INVALID_PARAMS', async () => {
    const account = await enrolledAccount(t)
    for (const twoFactorToken of [`lk2_${'A'.repeat(32)}`, 'lk2_short', account.session, '']) {
      await fails(t, 'api', 'Verify2FACode', 'UNAUTHENTICATED', {
        twoFactorToken,
        code: await codeAt(account.secret, 0),
      })
    }
    const token = await pendingToken(t, 'api', account.login, account.password)
    await fails(t, 'api', 'Verify2FACode', 'INVALID_PARAMS', { twoFactorToken: token, code: '1'.repeat(65) })
    await fails(t, 'api', 'Verify2FACode', 'INVALID_PARAMS', { twoFactorToken: token, code: 123456 })
    const verified = await ok(t, 'api', 'Verify2FACode', {
      twoFactorToken: token,
      code: await codeAt(account.secret, 0),
    })
    assert.equal(verified['recoveryCodesLeft'], 10)
  })
})

describe('Enable2FA', () => {
  test('five wrong codes drop the enrolment', async () => {
    const { login, password } = await t.signUp()
    const session = await t.signIn(login, password)
    const secret = String((await ok(t, 'rpc', 'Get2FAConfig', { password }, { bearer: session }))['secret'])
    // A malformed code is a params error and spends nothing.
    await fails(t, 'rpc', 'Enable2FA', 'INVALID_PARAMS', { code: '12345' }, { bearer: session })
    for (const attemptsLeft of [4, 3, 2, 1, 0]) {
      const { data } = await fails(
        t,
        'rpc',
        'Enable2FA',
        'INVALID_2FA_CODE',
        { code: wrongCode(secret) },
        { bearer: session },
      )
      assert.equal(data['attemptsLeft'], attemptsLeft)
    }
    await fails(t, 'rpc', 'Enable2FA', 'CONFLICT', { code: await codeAt(secret, 0) }, { bearer: session })
    assert.equal((await ok(t, 'rpc', 'Get2FAStatus', {}, { bearer: session }))['enabled'], false)
  })

  test('only a full session enrols', async () => {
    await fails(t, 'api', 'Get2FAStatus', 'UNAUTHENTICATED', {})
    await fails(t, 'api', 'Enable2FA', 'UNAUTHENTICATED', { code: '123456' })
  })
})

describe('otpauth URI and QR code', () => {
  let acme: TestApp
  before(async () => {
    // Small lock settings for the lock test; an issuer that needs escaping for the URI test.
    acme = await startTestApp(
      { TOTP_ISSUER: 'Acme Corp', TWO_FACTOR_LOCK_THRESHOLD: '3', TWO_FACTOR_LOCK_BASE_SECONDS: '60' },
      { share: t },
    )
  })
  after(async () => {
    await acme?.close()
  })

  test('the URI names issuer and login and carries the secret, base32 without padding', async () => {
    const { login, password } = await acme.signUp()
    const session = await acme.signIn(login, password)
    const config = await ok(acme, 'api', 'Get2FAConfig', { password }, { bearer: session })
    const secret = String(config['secret'])
    const uri = String(config['otpauthUri'])
    assert.match(secret, /^[A-Z2-7]{32}$/)
    assert.equal(OTPAuth.Secret.fromBase32(secret).bytes.length, 20)

    const url = new URL(uri)
    assert.equal(url.protocol, 'otpauth:')
    assert.equal(url.host, 'totp')
    assert.equal(decodeURIComponent(url.pathname), `/Acme Corp:${login.toLowerCase()}`)
    assert.equal(url.searchParams.get('secret'), secret)
    assert.equal(url.searchParams.get('issuer'), 'Acme Corp')
    assert.ok(!uri.includes('='.repeat(2)) && !/secret=[^&]*%3D/i.test(uri))

    // An independent parser reads the same key and makes the code we enable with.
    const parsed = OTPAuth.URI.parse(uri)
    assert.ok(parsed instanceof OTPAuth.TOTP)
    assert.equal(parsed.issuer, 'Acme Corp')
    assert.equal(parsed.label, login.toLowerCase())
    assert.equal(parsed.secret.base32, secret)
    assert.equal(parsed.digits, 6)
    assert.equal(parsed.period, 30)
    assert.equal(parsed.algorithm, 'SHA1')

    const png = PNG.sync.read(Buffer.from(String(config['qrCode']).replace(/^data:image\/png;base64,/, ''), 'base64'))
    // jsqr is a UMD bundle: Node's ESM default import is module.exports, whose `default` is the decoder.
    const decoded = jsqr.default(
      new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length),
      png.width,
      png.height,
    )
    assert.equal(decoded?.data, uri)

    await codeAt(secret, 0)
    const enabled = await ok(acme, 'api', 'Enable2FA', { code: parsed.generate() }, { bearer: session })
    assert.equal((enabled['recoveryCodes'] as unknown[]).length, 10)
  })

  test('failures across pending tokens lock the second factor; a success resets the count', async () => {
    const account = await enrolledAccount(acme)
    const attempt = async (code: string) => ({
      code,
      token: await pendingToken(acme, 'api', account.login, account.password),
    })
    const wrong = async () => {
      const { token, code } = await attempt(wrongCode(account.secret))
      await fails(acme, 'api', 'Verify2FACode', 'INVALID_2FA_CODE', { twoFactorToken: token, code })
    }
    await wrong()
    await wrong()
    const first = await attempt(account.recoveryCodes[0] ?? '')
    await ok(acme, 'api', 'Verify2FACode', { twoFactorToken: first.token, code: first.code })
    // Counting starts over: two more failures stay under the threshold of 3.
    await wrong()
    await wrong()
    await wrong()

    // Locked now: even the right code on a fresh token is refused without spending it.
    const token = await pendingToken(acme, 'api', account.login, account.password)
    const locked = await acme.api('Verify2FACode', { twoFactorToken: token, code: await codeAt(account.secret, 0) })
    assert.equal(locked.status, 429)
    assert.equal(locked.body.error?.data['reason'], 'RATE_LIMITED')
    const retryAfter = Number(locked.body.error?.data['retryAfter'])
    assert.ok(retryAfter > 0 && retryAfter <= 60, `retryAfter ${retryAfter}`)
    assert.equal(locked.headers['retry-after'], String(retryAfter))
    const overRpc = await call(acme, 'rpc', 'Verify2FACode', { twoFactorToken: token, code: account.recoveryCodes[1] })
    assert.ok(!overRpc.ok && overRpc.reason === 'RATE_LIMITED' && Number(overRpc.data['retryAfter']) > 0)
    // The lock is per account: Redis is shared, so another instance sees it too.
    const elsewhere = await call(t, 'api', 'Verify2FACode', { twoFactorToken: token, code: account.recoveryCodes[1] })
    assert.ok(!elsewhere.ok && elsewhere.reason === 'RATE_LIMITED')

    // Lifting the lock (as its expiry would) lets the still-unspent token through.
    await acme.services.stores.limits.reset([`2fa:${account.accountId}`])
    const verified = await ok(acme, 'api', 'Verify2FACode', {
      twoFactorToken: token,
      code: totpCode(account.secret, Date.now()),
    })
    assert.equal(verified['recoveryCodesLeft'], 9)
  })
})
