/**
 * Threat: one recovery code (a photo of the printed sheet) used many times at once, hoping two
 * requests pass the "unused" check before either marks it used. The store marks it used with a
 * guarded UPDATE, so exactly one wins, whatever the spelling and whichever instance.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startTwoInstances, type TestApp, type TwoInstances } from '../support/app.js'
import { call, ok } from '../support/calls.js'
import { enrolledAccount, pendingToken } from '../support/two-factor.js'

// Reuse is the subject here; the per-account lock must not mask it.
// Twenty sign-ins at once from one IP are twenty checks in flight: room for them in the (login, IP) count.
const env = { TWO_FACTOR_LOCK_THRESHOLD: '1000', SIGNIN_MAX_PER_LOGIN_IP: '100' }

let a: TestApp
let b: TestApp
let instances: TwoInstances | undefined
before(async () => {
  instances = await startTwoInstances(env)
  ;({ a, b } = instances)
})
after(() => instances?.close())

const spellings = (code: string) => [code, code.toUpperCase(), code.replace('-', ''), ` ${code.replace('-', ' ')} `]

describe('recovery code reuse', () => {
  test('20 parallel uses of one recovery code on 20 pending tokens over two instances: exactly one session', async () => {
    const account = await enrolledAccount(a)
    const code = account.recoveryCodes[4]
    assert.ok(code !== undefined)
    const tokens = await Promise.all(
      Array.from({ length: 20 }, (_, i) => pendingToken(i % 2 === 0 ? a : b, 'api', account.login, account.password)),
    )
    const variants = spellings(code)
    const replies = await Promise.all(
      tokens.map((twoFactorToken, i) =>
        call(i % 3 === 0 ? b : a, i % 2 === 0 ? 'api' : 'rpc', 'Verify2FACode', {
          twoFactorToken,
          code: variants[i % variants.length],
        }),
      ),
    )
    const successes = replies.filter((r) => r.ok)
    assert.equal(successes.length, 1)
    assert.equal(successes[0]?.ok && successes[0].result['recoveryCodesLeft'], 9)
    for (const reply of replies) {
      if (!reply.ok) assert.equal(reply.reason, 'INVALID_2FA_CODE')
    }

    const shown = (await ok(a, 'api', 'GetRecoveryCodes', { password: account.password }, { bearer: account.session }))[
      'recoveryCodes'
    ] as Array<{ code: string; used: boolean }>
    assert.deepEqual(
      shown.filter((c) => c.used).map((c) => c.code),
      [code],
    )
    assert.equal((await ok(b, 'api', 'Get2FAStatus', {}, { bearer: account.session }))['recoveryCodesLeft'], 9)
  })

  test('20 parallel uses of one code on a single pending token: one session, no code spent twice', async () => {
    const account = await enrolledAccount(b)
    const code = account.recoveryCodes[0]
    assert.ok(code !== undefined)
    const twoFactorToken = await pendingToken(b, 'rpc', account.login, account.password)
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) => call(i % 2 === 0 ? a : b, 'api', 'Verify2FACode', { twoFactorToken, code })),
    )
    assert.equal(replies.filter((r) => r.ok).length, 1)
    assert.equal((await ok(a, 'api', 'Get2FAStatus', {}, { bearer: account.session }))['recoveryCodesLeft'], 9)
  })
})
