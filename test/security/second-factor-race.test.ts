/**
 * Threat: guessing second-factor codes in parallel. Failures lock the account's second factor
 * after a threshold across all its pending tokens; an enrolment allows 5 wrong codes. Attempts
 * take their place before their code is checked, so parallel guesses (separate requests, a batch,
 * two instances) get exactly the allowed checks, and refused attempts neither check a code nor
 * lengthen the lock.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startTwoInstances, type TestApp } from '../support/app.js'
import { call, ok } from '../support/calls.js'
import { enrolledAccount, pendingToken, totpCode, wrongCode } from '../support/two-factor.js'
import { batch, countCalls, reasonOf, tally } from '../support/races.js'

const threshold = 10
const lockBaseSeconds = 600
let a: TestApp
let b: TestApp
let instances: Awaited<ReturnType<typeof startTwoInstances>> | undefined
before(async () => {
  instances = await startTwoInstances({
    TWO_FACTOR_LOCK_THRESHOLD: String(threshold),
    TWO_FACTOR_LOCK_BASE_SECONDS: String(lockBaseSeconds),
    // Thirty sign-ins of one account from one address to get thirty pending tokens.
    SIGNIN_MAX_PER_LOGIN_IP: '1000',
  })
  ;({ a, b } = instances)
})
after(() => instances?.close())

/** Counts TOTP checks (each reads the account's secret) on both instances. */
function countCodeChecks() {
  const counters = [a, b].map((t) => countCalls(t.services.stores.twoFactor, 'secret'))
  return {
    get count() {
      return counters.reduce((sum, c) => sum + c.count, 0)
    },
    restore() {
      for (const c of counters) c.restore()
    },
  }
}

describe('second-factor lock race', () => {
  test('30 pending tokens, one wrong code each, at once over two instances: exactly 10 checked, lock not lengthened', async () => {
    const account = await enrolledAccount(a)
    const tokens = await Promise.all(
      Array.from({ length: 30 }, (_, i) => pendingToken(i % 2 ? a : b, 'api', account.login, account.password)),
    )
    const code = wrongCode(account.secret)
    const checks = countCodeChecks()
    try {
      const replies = await Promise.all(
        tokens.map((twoFactorToken, i) =>
          call(i % 2 ? a : b, i % 3 ? 'api' : 'rpc', 'Verify2FACode', { twoFactorToken, code }),
        ),
      )
      assert.equal(checks.count, threshold)
      assert.deepEqual(tally(replies.map((r) => (r.ok ? 'ok' : String(r.reason)))), {
        INVALID_2FA_CODE: threshold,
        RATE_LIMITED: 30 - threshold,
      })
      // The lock is the first one (base), however many refused attempts arrived meanwhile.
      const retryAfters = replies.flatMap((r) =>
        !r.ok && r.reason === 'RATE_LIMITED' ? [Number(r.data['retryAfter'])] : [],
      )
      assert.ok(
        retryAfters.every((s) => s > 0 && s <= lockBaseSeconds),
        `${retryAfters}`,
      )

      // More attempts during the lock, even with the right code: refused, unchecked, lock unchanged.
      const fresh = await Promise.all(
        Array.from({ length: 5 }, () => pendingToken(a, 'api', account.login, account.password)),
      )
      const during = await Promise.all(
        fresh.map((twoFactorToken) =>
          call(b, 'api', 'Verify2FACode', { twoFactorToken, code: totpCode(account.secret, Date.now()) }),
        ),
      )
      assert.equal(checks.count, threshold)
      for (const reply of during) {
        assert.ok(!reply.ok && reply.reason === 'RATE_LIMITED')
        assert.ok(Number(reply.data['retryAfter']) <= lockBaseSeconds, 'a refused attempt lengthened the lock')
      }
      // Nothing was spent meanwhile: all the recovery codes are still there.
      assert.equal((await ok(a, 'api', 'Get2FAStatus', {}, { bearer: account.session }))['recoveryCodesLeft'], 10)
    } finally {
      checks.restore()
    }
  })

  test('a batch of 15 wrong codes on 15 tokens counts like 15 requests', async () => {
    const account = await enrolledAccount(b)
    const tokens = await Promise.all(
      Array.from({ length: 15 }, () => pendingToken(b, 'api', account.login, account.password)),
    )
    const code = wrongCode(account.secret)
    const checks = countCodeChecks()
    try {
      const replies = await batch(
        a,
        tokens.map((twoFactorToken) => ({ method: 'Verify2FACode', params: { twoFactorToken, code } })),
      )
      assert.equal(checks.count, threshold)
      assert.deepEqual(tally(replies.map(reasonOf)), { INVALID_2FA_CODE: threshold, RATE_LIMITED: 15 - threshold })
    } finally {
      checks.restore()
    }
  })

  test('20 wrong codes at once on one lk2_ token: exactly its 5 attempts checked', async () => {
    const account = await enrolledAccount(a)
    const twoFactorToken = await pendingToken(a, 'api', account.login, account.password)
    const code = wrongCode(account.secret)
    const checks = countCodeChecks()
    try {
      const replies = await Promise.all(
        Array.from({ length: 20 }, (_, i) => call(i % 2 ? a : b, 'api', 'Verify2FACode', { twoFactorToken, code })),
      )
      assert.equal(checks.count, 5)
      const left = replies.flatMap((r) => (!r.ok && r.reason === 'INVALID_2FA_CODE' ? [r.data['attemptsLeft']] : []))
      assert.deepEqual(left.sort(), [0, 1, 2, 3, 4])
    } finally {
      checks.restore()
    }
  })
})

describe('enrolment race', () => {
  test('20 wrong Enable2FA codes at once over two instances: exactly 5 compared, then the enrolment is gone', async () => {
    const { login, password } = await a.signUp()
    const session = await a.signIn(login, password)
    const config = await ok(a, 'api', 'Get2FAConfig', { password }, { bearer: session })
    const code = wrongCode(String(config['secret']))
    // Each compared code first opens the sealed enrolment secret.
    const opens = [a, b].map((t) => countCalls(t.services.secretBox, 'open'))
    try {
      const replies = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          call(i % 2 ? a : b, i % 3 ? 'api' : 'rpc', 'Enable2FA', { code }, { bearer: session }),
        ),
      )
      assert.equal(
        opens.reduce((sum, c) => sum + c.count, 0),
        5,
      )
      assert.deepEqual(tally(replies.map((r) => (r.ok ? 'ok' : String(r.reason)))), {
        INVALID_2FA_CODE: 5,
        CONFLICT: 15,
      })
      const left = replies.flatMap((r) => (!r.ok && r.reason === 'INVALID_2FA_CODE' ? [r.data['attemptsLeft']] : []))
      assert.deepEqual(left.sort(), [0, 1, 2, 3, 4])
      // Even the right code is refused now: the enrolment used its attempts.
      const late = await call(
        b,
        'api',
        'Enable2FA',
        { code: totpCode(String(config['secret']), Date.now()) },
        { bearer: session },
      )
      assert.ok(!late.ok && late.reason === 'CONFLICT')
    } finally {
      for (const c of opens) c.restore()
    }
  })

  test('two right Enable2FA codes at once: 2FA on once, one set of codes returned', async () => {
    const { login, password } = await a.signUp()
    const session = await a.signIn(login, password)
    const config = await ok(a, 'api', 'Get2FAConfig', { password }, { bearer: session })
    const secret = String(config['secret'])
    const codes = [totpCode(secret, Date.now() - 30_000), totpCode(secret, Date.now())]
    const replies = await Promise.all(
      codes.map((code, i) => call(i ? a : b, 'api', 'Enable2FA', { code }, { bearer: session })),
    )
    const winners = replies.filter((r) => r.ok)
    assert.equal(winners.length, 1)
    const loser = replies.find((r) => !r.ok)
    assert.ok(loser !== undefined && !loser.ok && loser.reason === 'CONFLICT')
    const shown = (await ok(a, 'api', 'GetRecoveryCodes', { password }, { bearer: session }))[
      'recoveryCodes'
    ] as Array<{
      code: string
    }>
    assert.deepEqual(
      shown.map((c) => c.code),
      winners[0]?.ok ? winners[0].result['recoveryCodes'] : null,
    )
  })
})
