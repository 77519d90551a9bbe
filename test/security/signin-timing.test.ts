/**
 * Threat: login enumeration by timing. An unknown login must cost what a wrong password costs:
 * the unknown path checks the password against a dummy bcrypt hash of the same cost. Statistical,
 * with a generous bound; bcrypt at cost 8 dominates each call so the comparison means something.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import bcrypt from 'bcrypt'
import { startTestApp, strongPassword, uniqueLogin, type TestApp } from '../support/app.js'

const cost = 8
const samples = 15

let t: TestApp
before(async () => {
  t = await startTestApp({
    BCRYPT_COST: String(cost),
    // Every sample is a failure from one IP; the limits are not what is measured here.
    SIGNIN_MAX_PER_LOGIN_IP: '100000',
    SIGNIN_MAX_PER_IP: '100000',
    SIGNIN_MAX_PER_LOGIN: '100000',
  })
})
after(async () => {
  await t?.close()
})

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2
}

/** Wall time of one SignIn that must fail with `reason`. */
async function timedSignIn(login: string, password: string, reason: string): Promise<number> {
  const started = performance.now()
  const reply = await t.api('SignIn', { login, password })
  const took = performance.now() - started
  assert.equal(reply.body.error?.data['reason'], reason, JSON.stringify(reply.body))
  return took
}

test('unknown login and wrong password take the same time, and both pay for a bcrypt check', async () => {
  const { login } = await t.signUp()

  // What one bcrypt comparison at this cost takes on this machine, measured alongside the samples.
  const hash = await bcrypt.hash('reference', cost)
  const timedBcrypt = async () => {
    const started = performance.now()
    await bcrypt.compare(strongPassword(), hash)
    return performance.now() - started
  }

  for (let i = 0; i < 3; i++) {
    await timedBcrypt()
    await timedSignIn(login, strongPassword(), 'INVALID_CREDENTIALS')
    await timedSignIn(uniqueLogin('warmup'), strongPassword(), 'INVALID_CREDENTIALS')
  }

  const wrongPassword: number[] = []
  const unknownLogin: number[] = []
  const noBcrypt: number[] = []
  const bcryptAlone: number[] = []
  for (let i = 0; i < samples; i++) {
    // Alternating (and swapping who goes first) spreads any drift in machine load over both sides.
    if (i % 2 === 0) {
      wrongPassword.push(await timedSignIn(login, strongPassword(), 'INVALID_CREDENTIALS'))
      unknownLogin.push(await timedSignIn(uniqueLogin('ghost'), strongPassword(), 'INVALID_CREDENTIALS'))
    } else {
      unknownLogin.push(await timedSignIn(uniqueLogin('ghost'), strongPassword(), 'INVALID_CREDENTIALS'))
      wrongPassword.push(await timedSignIn(login, strongPassword(), 'INVALID_CREDENTIALS'))
    }
    noBcrypt.push(await timedSignIn('x', strongPassword(), 'INVALID_PARAMS'))
    bcryptAlone.push(await timedBcrypt())
  }

  const wrongMs = median(wrongPassword)
  const unknownMs = median(unknownLogin)
  const controlMs = median(noBcrypt)
  const bcryptMs = median(bcryptAlone)
  const summary = `medians: wrong password ${wrongMs.toFixed(1)} ms, unknown login ${unknownMs.toFixed(1)} ms, no bcrypt ${controlMs.toFixed(1)} ms, bcrypt alone ${bcryptMs.toFixed(1)} ms`

  // The measurement can tell a bcrypt check from none: otherwise the comparison below proves nothing.
  assert.ok(controlMs < bcryptMs * 0.5, `the control is not clearly faster than bcrypt; ${summary}`)
  assert.ok(wrongMs >= bcryptMs * 0.75, `a wrong password did not pay for bcrypt; ${summary}`)
  assert.ok(unknownMs >= bcryptMs * 0.75, `an unknown login did not pay for bcrypt (no dummy check?); ${summary}`)
  const ratio = unknownMs / wrongMs
  assert.ok(ratio >= 0.6 && ratio <= 1.6, `unknown/wrong = ${ratio.toFixed(2)}; ${summary}`)
})
