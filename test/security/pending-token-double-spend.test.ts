/**
 * Threat: one lk2_ token turned into two sessions by sending two different valid second factors
 * at once (a TOTP code and a recovery code, or two TOTP steps), to two instances. A right code
 * claims the token before anything is spent, so exactly one session comes out and the loser
 * spends nothing.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startTwoInstances, type TestApp } from '../support/app.js'
import { call, ok } from '../support/calls.js'
import { enrolledAccount, pendingToken, totpCode } from '../support/two-factor.js'
import { list } from '../support/calls.js'

let a: TestApp
let b: TestApp
let instances: Awaited<ReturnType<typeof startTwoInstances>> | undefined
before(async () => {
  instances = await startTwoInstances({ TWO_FACTOR_LOCK_THRESHOLD: '1000', SIGNIN_MAX_PER_LOGIN_IP: '1000' })
  ;({ a, b } = instances)
})
after(() => instances?.close())

const runs = 10

async function liveSessions(t: TestApp, session: string): Promise<number> {
  return list((await ok(t, 'api', 'GetSessions', {}, { bearer: session }))['sessions']).length
}

describe('one lk2_ token, two valid factors at once', () => {
  test(`a TOTP code and a recovery code over two instances: one session, ${runs} runs out of ${runs}`, async () => {
    const account = await enrolledAccount(a)
    let recoveryLeft = 10
    for (let run = 0; run < runs; run++) {
      const before = await liveSessions(a, account.session)
      const twoFactorToken = await pendingToken(a, 'api', account.login, account.password)
      // A fresh step each run would need 30 s; the recovery code is fresh, the TOTP step is accepted once.
      const totp = totpCode(account.secret, Date.now() + (run % 2 === 0 ? 30_000 : 0))
      const recovery = account.recoveryCodes[run] ?? ''
      const replies = await Promise.all([
        call(a, 'api', 'Verify2FACode', { twoFactorToken, code: totp }),
        call(b, 'rpc', 'Verify2FACode', { twoFactorToken, code: recovery }),
      ])
      const sessions = replies.filter((r) => r.ok)
      // The recovery code is always fresh, so exactly one of the two wins.
      assert.equal(sessions.length, 1, `run ${run}: ${sessions.length} sessions from one lk2_ token`)
      assert.equal(await liveSessions(b, account.session), before + sessions.length, `run ${run}`)
      // The recovery code is spent only when it paid for the session.
      const recoveryWon = replies[1]?.ok === true
      if (recoveryWon) recoveryLeft--
      assert.equal(
        (await ok(b, 'api', 'Get2FAStatus', {}, { bearer: account.session }))['recoveryCodesLeft'],
        recoveryLeft,
      )
      // The loser (if any) was refused, and the token is consumed either way when one won.
      if (sessions.length === 1) {
        const again = await call(a, 'api', 'Verify2FACode', { twoFactorToken, code: account.recoveryCodes[9] ?? '' })
        assert.ok(!again.ok && again.reason === 'UNAUTHENTICATED', `run ${run}: the token outlived its session`)
      }
    }
  })

  test(`two TOTP steps (current and next) over two instances: one session, ${runs} runs out of ${runs}`, async () => {
    let sessionsIssued = 0
    for (let run = 0; run < runs; run++) {
      const account = await enrolledAccount(b)
      const twoFactorToken = await pendingToken(b, 'api', account.login, account.password)
      const now = Date.now()
      const replies = await Promise.all([
        call(a, 'api', 'Verify2FACode', { twoFactorToken, code: totpCode(account.secret, now) }),
        call(b, 'api', 'Verify2FACode', { twoFactorToken, code: totpCode(account.secret, now + 30_000) }),
      ])
      const sessions = replies.filter((r) => r.ok).length
      assert.equal(sessions, 1, `run ${run}: ${sessions} sessions`)
      sessionsIssued += sessions
      // The enrolment's session plus the one from the token.
      assert.equal(await liveSessions(a, account.session), 2)
    }
    assert.equal(sessionsIssued, runs)
  })
})
