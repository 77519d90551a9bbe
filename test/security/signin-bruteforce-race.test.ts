/**
 * Threat: guessing passwords in parallel so that many guesses pass the failure count before any of
 * them raises it. Every attempt takes its place in the counters before its password is checked, so
 * N attempts at once (separate requests, one JSON-RPC batch, two instances) get exactly as many
 * checks as the limit allows; ★ password confirmations count the same way.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startTwoInstances, strongPassword, uniqueLogin, type TestApp } from '../support/app.js'
import { fromIp } from '../support/calls.js'
import { batch, countPasswordChecks, reasonOf, tally } from '../support/races.js'

const perLoginIp = 10
let a: TestApp
let b: TestApp
let instances: Awaited<ReturnType<typeof startTwoInstances>> | undefined
before(async () => {
  instances = await startTwoInstances({ TRUST_PROXY: 'true', SIGNIN_MAX_PER_LOGIN_IP: String(perLoginIp) })
  ;({ a, b } = instances)
})
after(() => instances?.close())

let ipCounter = 1
const freshIp = () => `203.0.113.${ipCounter++}`

async function signInReason(t: TestApp, login: string, password: string, ip: string): Promise<string> {
  const reply = await t.api('SignIn', { login, password }, fromIp(ip))
  return reply.body.error === undefined ? 'ok' : String(reply.body.error.data['reason'])
}

describe('sign-in brute force, in parallel', () => {
  test('40 wrong passwords at once, one login, one IP, separate requests: exactly 10 checked', async () => {
    const { login, password } = await a.signUp()
    const ip = freshIp()
    const checks = countPasswordChecks(a)
    try {
      const reasons = await Promise.all(
        Array.from({ length: 40 }, (_, i) => signInReason(a, login, `wrong-${i}-${strongPassword()}`, ip)),
      )
      assert.equal(checks.count, perLoginIp)
      assert.deepEqual(tally(reasons), { INVALID_CREDENTIALS: perLoginIp, RATE_LIMITED: 40 - perLoginIp })
      // The limit holds for the right password too, and checks nothing.
      assert.equal(await signInReason(a, login, password, ip), 'RATE_LIMITED')
      assert.equal(checks.count, perLoginIp)
    } finally {
      checks.restore()
    }
  })

  test('99 wrong and the right one at once: 10 checked; the owner is let in only if theirs was among them', async () => {
    const { login, password } = await a.signUp()
    const ip = freshIp()
    const checks = countPasswordChecks(a)
    try {
      const guesses = Array.from({ length: 100 }, (_, i) => (i === 57 ? password : `wrong-${i}-${strongPassword()}`))
      const reasons = await Promise.all(guesses.map((guess) => signInReason(a, login, guess, ip)))
      assert.equal(checks.count, perLoginIp)
      const owner = reasons[57]
      assert.ok(owner === 'ok' || owner === 'RATE_LIMITED', `owner got ${owner}`)
      const wrongChecked = reasons.filter((r, i) => i !== 57 && r === 'INVALID_CREDENTIALS').length
      assert.equal(wrongChecked + (owner === 'ok' ? 1 : 0), perLoginIp)
    } finally {
      checks.restore()
    }
  })

  test('one batch of 20 wrong SignIns counts like 20 requests: 10 checked', async () => {
    const { login } = await a.signUp()
    const ip = freshIp()
    const checks = countPasswordChecks(a)
    try {
      const replies = await batch(
        a,
        Array.from({ length: 20 }, (_, i) => ({ method: 'SignIn', params: { login, password: `wrong-${i}-x1!aQ` } })),
        fromIp(ip),
      )
      assert.equal(checks.count, perLoginIp)
      assert.deepEqual(tally(replies.map(reasonOf)), { INVALID_CREDENTIALS: perLoginIp, RATE_LIMITED: 20 - perLoginIp })
      for (const reply of replies.filter((r) => reasonOf(r) === 'RATE_LIMITED'))
        assert.ok(Number(reply.error?.data['retryAfter']) > 0)
    } finally {
      checks.restore()
    }
  })

  test('40 wrong passwords split over two instances: 10 checked in all', async () => {
    const { login } = await a.signUp()
    const ip = freshIp()
    const checks = countPasswordChecks(a, b)
    try {
      const reasons = await Promise.all(
        Array.from({ length: 40 }, (_, i) => signInReason(i % 2 === 0 ? a : b, login, `wrong-${i}-Zz9!x`, ip)),
      )
      assert.equal(checks.count, perLoginIp)
      assert.deepEqual(tally(reasons), { INVALID_CREDENTIALS: perLoginIp, RATE_LIMITED: 40 - perLoginIp })
    } finally {
      checks.restore()
    }
  })

  test('unknown logins are counted exactly like known ones, dummy checks included', async () => {
    const login = uniqueLogin('nobody')
    const ip = freshIp()
    const checks = countPasswordChecks(a, b)
    try {
      const reasons = await Promise.all(
        Array.from({ length: 30 }, (_, i) => signInReason(i % 2 === 0 ? a : b, login, `guess-${i}-Zz9!x`, ip)),
      )
      assert.equal(checks.count, perLoginIp)
      assert.deepEqual(tally(reasons), { INVALID_CREDENTIALS: perLoginIp, RATE_LIMITED: 30 - perLoginIp })
    } finally {
      checks.restore()
    }
  })

  test('sequential right passwords are never limited: a success gives its place back', async () => {
    const { login, password } = await a.signUp()
    const ip = freshIp()
    for (let i = 0; i < perLoginIp + 5; i++) assert.equal(await signInReason(i % 2 ? a : b, login, password, ip), 'ok')
  })
})

describe('★ password confirmations, in parallel', () => {
  test('40 CreateToken with a wrong password at once, over two instances: 10 checked, then SignIn is limited too', async () => {
    const { login, password } = await a.signUp()
    const ip = freshIp()
    const session = await a.signIn(login, password)
    const checks = countPasswordChecks(a, b)
    try {
      const replies = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          (i % 2 === 0 ? a : b).api(
            'CreateToken',
            { password: `wrong-${i}-Zz9!x`, description: 'guess' },
            fromIp(ip, { bearer: session }),
          ),
        ),
      )
      const reasons = replies.map((r) => String(r.body.error?.data['reason']))
      assert.equal(checks.count, perLoginIp)
      assert.deepEqual(tally(reasons), { INVALID_CREDENTIALS: perLoginIp, RATE_LIMITED: 40 - perLoginIp })
      // Counted as failed sign-ins of that login from that IP: the right password is refused there now.
      assert.equal(await signInReason(b, login, password, ip), 'RATE_LIMITED')
      const tokens = await a.api('GetTokens', {}, { bearer: session })
      assert.deepEqual(tokens.body['tokens'], [])
    } finally {
      checks.restore()
    }
  })

  test('a right confirmation gives its place back', async () => {
    const { login, password } = await a.signUp()
    const ip = freshIp()
    const session = await a.signIn(login, password)
    for (let i = 0; i < perLoginIp + 3; i++) {
      const reply = await a.api('GetRecoveryCodes', { password }, fromIp(ip, { bearer: session }))
      assert.equal(reply.body.error?.data['reason'], 'CONFLICT', 'checked and right (2FA is off), never RATE_LIMITED')
    }
  })
})
