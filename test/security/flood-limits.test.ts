/**
 * Threat: floods from one address that cost the service work per call: mass sign-ups (a bcrypt
 * hash each), unauthenticated calls, well-formed but unknown personal access tokens (a Postgres
 * read each). SignUp and every auth-none call are limited per client IP, each call of a JSON-RPC
 * batch counting once; an unknown PAT digest is remembered as unknown for a while.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startTestApp, startTwoInstances, strongPassword, uniqueLogin, type TestApp } from '../support/app.js'
import { fromIp } from '../support/calls.js'
import { credentialDigest, newPersonalAccessToken } from '../../src/domain/credentials.js'
import { batch, countCalls, reasonOf, tally } from '../support/races.js'

const signUpLimit = 5
const anonymousLimit = 12
const env = {
  TRUST_PROXY: 'true',
  SIGNUP_MAX_PER_IP: String(signUpLimit),
  ANONYMOUS_CALLS_MAX_PER_IP: String(anonymousLimit),
}

let ipCounter = 1
const freshIp = () => `192.0.2.${ipCounter++}`
const signUpParams = () => ({ login: uniqueLogin('flood'), password: strongPassword() })

async function signUpFlood(apps: TestApp[], n: number, ip: string) {
  const hashes = apps.map((t) => countCalls(t.services.passwords, 'hash'))
  try {
    const replies = await Promise.all(
      Array.from({ length: n }, (_, i) => (apps[i % apps.length] as TestApp).api('SignUp', signUpParams(), fromIp(ip))),
    )
    return {
      reasons: replies.map((r) => (r.body.error === undefined ? 'ok' : String(r.body.error.data['reason']))),
      replies,
      hashed: hashes.reduce((sum, c) => sum + c.count, 0),
    }
  } finally {
    for (const c of hashes) c.restore()
  }
}

for (const mode of ['redis', 'embedded'] as const) {
  describe(`per-IP call limits (${mode})`, () => {
    let t: TestApp
    before(async () => {
      t = await startTestApp(env, { embedded: mode === 'embedded' })
    })
    after(() => t?.close())

    test(`15 SignUps at once from one IP with a limit of ${signUpLimit}: ${signUpLimit} accounts, ${signUpLimit} hashes`, async () => {
      const ip = freshIp()
      const { reasons, replies, hashed } = await signUpFlood([t], 15, ip)
      assert.deepEqual(tally(reasons), { ok: signUpLimit, RATE_LIMITED: 15 - signUpLimit })
      assert.equal(hashed, signUpLimit)
      const refused = replies.find((r) => r.body.error !== undefined)
      const retryAfter = Number(refused?.body.error?.data['retryAfter'])
      assert.ok(retryAfter > 0 && retryAfter <= 3600, `retryAfter ${retryAfter}`)
      assert.equal(refused?.headers['retry-after'], String(retryAfter))
      // Another address is not affected.
      assert.equal((await t.api('SignUp', signUpParams(), fromIp(freshIp()))).status, 200)
    })

    test('each call of a batch counts: a batch of 20 SignIns gets 12 through, 8 RATE_LIMITED unchecked', async () => {
      const ip = freshIp()
      const checks = countCalls(t.services.passwords, 'verifyAgainstDummy')
      try {
        const replies = await batch(
          t,
          Array.from({ length: 20 }, (_, i) => ({
            method: 'SignIn',
            params: { login: uniqueLogin(`nobody${i}`), password: 'wrong-password-1!' },
          })),
          fromIp(ip),
        )
        assert.deepEqual(tally(replies.map(reasonOf)), {
          INVALID_CREDENTIALS: anonymousLimit,
          RATE_LIMITED: 20 - anonymousLimit,
        })
        assert.equal(checks.count, anonymousLimit)
      } finally {
        checks.restore()
      }
      // Once spent, even a single call from that address waits, whatever the method.
      const verify = await t.api('Verify2FACode', { twoFactorToken: 'lk2_x', code: '123456' }, fromIp(ip))
      assert.equal(verify.body.error?.data['reason'], 'RATE_LIMITED')
    })
  })
}

describe('per-IP call limits across instances', () => {
  test('SignUps split over two instances share one count', async () => {
    const both = await startTwoInstances(env)
    try {
      const { reasons, hashed } = await signUpFlood([both.a, both.b], 15, freshIp())
      assert.deepEqual(tally(reasons), { ok: signUpLimit, RATE_LIMITED: 15 - signUpLimit })
      assert.equal(hashed, signUpLimit)
    } finally {
      await both.close()
    }
  })
})

describe('unknown personal access tokens', () => {
  let t: TestApp
  before(async () => {
    t = await startTestApp({ TOKEN_UNKNOWN_CACHE_SECONDS: '60' })
  })
  after(() => t?.close())

  test('a flood of well-formed unknown lkp_ tokens: at most one Postgres read per digest', async () => {
    const tokens = Array.from({ length: 5 }, () => newPersonalAccessToken())
    const reads = countCalls(t.services.stores.tokens, 'findByDigest')
    try {
      for (let round = 0; round < 4; round++) {
        const replies = await Promise.all(
          tokens.flatMap((token) => Array.from({ length: 5 }, () => t.api('GetSession', {}, { bearer: token }))),
        )
        for (const reply of replies) assert.equal(reply.body.error?.data['reason'], 'UNAUTHENTICATED')
      }
      // 100 calls; parallel first calls of one digest may each miss once, later rounds never read.
      assert.ok(reads.count >= tokens.length && reads.count <= tokens.length * 5, `reads ${reads.count}`)
      const afterFirstRounds = reads.count
      await Promise.all(tokens.map((token) => t.api('GetSession', {}, { bearer: token })))
      assert.equal(reads.count, afterFirstRounds)
    } finally {
      reads.restore()
    }
  })

  test('sequential unknown tokens: exactly one read per digest', async () => {
    const token = newPersonalAccessToken()
    const reads = countCalls(t.services.stores.tokens, 'findByDigest')
    try {
      for (let i = 0; i < 20; i++) await t.api('GetSession', {}, { bearer: token })
      assert.equal(reads.count, 1)
    } finally {
      reads.restore()
    }
  })

  test('a change to a token clears an "unknown" mark left on its digest', async () => {
    const { session, password } = await t.signUpAndIn()
    const created = await t.api('CreateToken', { password, description: 'fresh' }, { bearer: session })
    const token = String(created.body['token'])
    // As if a lookup had raced ahead of the commit (a fresh digest cannot, but the rule must hold).
    await t.services.stores.tokenCache.putUnknown(credentialDigest(token), 60_000)
    assert.equal((await t.api('GetSession', {}, { bearer: token })).status, 401)
    // Editing the token (a new expiry may revive an expired one) clears the mark.
    await t.api('EditToken', { id: created.body['id'], password, description: 'edited' }, { bearer: session })
    assert.equal((await t.api('GetSession', {}, { bearer: token })).status, 200)
  })
})
