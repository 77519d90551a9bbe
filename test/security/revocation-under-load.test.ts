import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { startTwoInstances, type TestApp } from '../support/app.js'
import { call, ok, type Json, type Transport } from '../support/calls.js'
import { recordCommands } from '../support/redis.js'
import { useTestCluster } from '../support/redis-cluster.js'
import { codeAt } from '../support/two-factor.js'
import { keyOf, operators } from '../support/operators.js'

/**
 * Threat: a credential revoked through one instance is still accepted by another, because that
 * instance answers from its in-process cache before Redis's invalidation reached it. A client
 * revokes on A and, as soon as A answers, asks B about the old credential, which B had just
 * served from its cache; B is kept busy by other clients meanwhile. Thousands of rounds, no stale
 * success allowed. On one Redis, then (fewer rounds) with both instances on a three-master Redis
 * Cluster, where each instance's cache has a tracked connection per master.
 */

let a: TestApp
let b: TestApp
let close: () => Promise<void>
const ops = operators('incident')
const cluster = useTestCluster()

const workers = 6
let round = 0
const transport = (): Transport => (round++ % 2 === 0 ? 'api' : 'rpc')

/** B describes the credential (twice, so the second answer comes from its cache). */
async function warmOnB(credential: string): Promise<Json> {
  await ok(b, transport(), 'GetSession', {}, { bearer: credential })
  return ok(b, transport(), 'GetSession', {}, { bearer: credential })
}

/** What B says right after the revocation returned: the reason, or the result when it accepted. */
async function askB(credential: string): Promise<{ reason: unknown; result: Json | null }> {
  const reply = await call(b, transport(), 'GetSession', {}, { bearer: credential })
  return reply.ok ? { reason: 'OK', result: reply.result } : { reason: reply.reason, result: null }
}

/** `rounds` rounds split over parallel workers, each with its own account. */
async function inParallel(rounds: number, work: (account: Account, i: number) => Promise<void>): Promise<number> {
  let done = 0
  await Promise.all(
    Array.from({ length: workers }, async () => {
      const account = await a.signUpAndIn()
      while (done < rounds) {
        done++
        await work(account, done)
      }
    }),
  )
  return done
}

type Account = Awaited<ReturnType<TestApp['signUpAndIn']>>

/** Other clients keep B busy (cache hits and misses) until `stop` is called. */
function backgroundLoad(): { stop(): Promise<number> } {
  let running = true
  let calls = 0
  const loops = Array.from({ length: 4 }, async () => {
    const { session } = await a.signUpAndIn()
    while (running) {
      await ok(b, 'api', 'GetSession', {}, { bearer: session })
      calls++
    }
  })
  return {
    async stop() {
      running = false
      await Promise.all(loops)
      return calls
    },
  }
}

async function stale(name: string, rounds: number, work: (account: Account) => Promise<boolean>): Promise<void> {
  const load = backgroundLoad()
  let staleAnswers = 0
  const checked = await inParallel(rounds, async (account) => {
    if (await work(account)) staleAnswers++
  })
  const background = await load.stop()
  assert.ok(background > 0, 'B was under load')
  assert.equal(staleAnswers, 0, `${name}: ${staleAnswers} stale answers in ${checked} rounds`)
}

/** Where both instances keep their ephemeral state, and the share of the rounds run there. */
const deployments = [
  { name: 'one Redis', env: (): Record<string, string> => ({}), share: 1 },
  {
    name: 'a Redis Cluster',
    env: (): Record<string, string> => ({ REDIS_URL: '', REDIS_CLUSTER_NODES: cluster.cluster.nodes }),
    share: 0.25,
  },
] as const

for (const deployment of deployments) {
  describe(`on ${deployment.name}`, () => {
    before(async () => {
      ;({ a, b, close } = await startTwoInstances({ ...ops.env, TOKEN_CACHE_SECONDS: '300', ...deployment.env() }))
    })
    after(() => close())
    revocationSuite((count) => Math.ceil(count * deployment.share))
  })
}

/** The threat's cases; `rounds` scales each case's round count for the deployment. */
function revocationSuite(rounds: (count: number) => number): void {
  test('B answers a warm session from its in-process cache, with no Redis command', async () => {
    const { session } = await a.signUpAndIn()
    await warmOnB(session)
    assert.ok(b.services.redis !== null)
    const sent = recordCommands(b.services.redis)
    try {
      await ok(b, 'api', 'GetSession', {}, { bearer: session })
    } finally {
      sent.stop()
    }
    assert.deepEqual(sent.names, [])
  })

  const unauthenticated = async (credential: string) => (await askB(credential)).reason !== 'UNAUTHENTICATED'

  test('SignOut on A: B refuses the session at once', async () => {
    await stale('SignOut', rounds(400), async ({ login, password }) => {
      const session = await a.signIn(login, password)
      await warmOnB(session)
      await ok(a, transport(), 'SignOut', {}, { bearer: session })
      return unauthenticated(session)
    })
  })

  test('SignOutSessions on A: B refuses the ended session at once', async () => {
    await stale('SignOutSessions', rounds(250), async ({ login, password, session: own }) => {
      const other = await a.signIn(login, password)
      const described = await warmOnB(other)
      assert.equal(described['authType'], 'session')
      const sessions = await ok(a, transport(), 'GetSessions', {}, { bearer: own })
      const list = sessions['sessions']
      assert.ok(Array.isArray(list))
      const ids = list
        .map((s: { id: string; current: boolean }) => s)
        .filter((s) => !s.current)
        .map((s) => s.id)
      await ok(a, transport(), 'SignOutSessions', { ids }, { bearer: own })
      return unauthenticated(other)
    })
  })

  test('ChangePassword on A: B refuses the other sessions at once', async () => {
    await stale('ChangePassword', rounds(150), async (account) => {
      const other = await a.signIn(account.login, account.password)
      await warmOnB(other)
      const newPassword = `${account.password}x`
      await ok(
        a,
        transport(),
        'ChangePassword',
        { password: account.password, newPassword },
        { bearer: account.session },
      )
      account.password = newPassword
      return unauthenticated(other)
    })
  })

  async function createToken(account: Account): Promise<{ id: string; token: string }> {
    const created = await ok(
      a,
      'api',
      'CreateToken',
      { password: account.password, description: 'under load' },
      { bearer: account.session },
    )
    return { id: String(created['id']), token: String(created['token']) }
  }

  test('RegenerateToken on A: B refuses the old secret at once', async () => {
    await stale('RegenerateToken', rounds(200), async (account) => {
      const { id, token } = await createToken(account)
      assert.equal((await warmOnB(token))['authType'], 'token')
      await ok(a, transport(), 'RegenerateToken', { id, password: account.password }, { bearer: account.session })
      const staleAnswer = await unauthenticated(token)
      await ok(a, 'api', 'DeleteTokens', { ids: [id], password: account.password }, { bearer: account.session })
      return staleAnswer
    })
  })

  test('DeleteTokens on A: B refuses the token at once', async () => {
    await stale('DeleteTokens', rounds(400), async (account) => {
      const { id, token } = await createToken(account)
      await warmOnB(token)
      await ok(a, transport(), 'DeleteTokens', { ids: [id], password: account.password }, { bearer: account.session })
      return unauthenticated(token)
    })
  })

  test('Enable2FA / Disable2FA on A: B reports the new flag at once, for sessions and tokens', async () => {
    await stale('2FA flag', rounds(50), async (account) => {
      const { id, token } = await createToken(account)
      const bearer = { bearer: account.session }
      assert.equal((await warmOnB(account.session))['twoFactorEnabled'], false)
      assert.equal((await warmOnB(token))['twoFactorEnabled'], false)
      const config = await ok(a, 'api', 'Get2FAConfig', { password: account.password }, bearer)
      await ok(a, transport(), 'Enable2FA', { code: await codeAt(String(config['secret']), 0) }, bearer)
      const afterEnable = [await askB(account.session), await askB(token)]
      await warmOnB(account.session)
      await warmOnB(token)
      await ok(a, transport(), 'Disable2FA', { password: account.password }, bearer)
      const afterDisable = [await askB(account.session), await askB(token)]
      await ok(a, 'api', 'DeleteTokens', { ids: [id], password: account.password }, bearer)
      return (
        afterEnable.some((answer) => answer.result?.['twoFactorEnabled'] !== true) ||
        afterDisable.some((answer) => answer.result?.['twoFactorEnabled'] !== false)
      )
    })
  })

  test("An operator's lock on A: B refuses the account's sessions and PATs at once", async () => {
    const operator = { bearer: keyOf(ops, 'incident') }
    await stale('AdminLockAccount', rounds(100), async () => {
      // The lock ends the whole account, so each round has its own.
      const account = await a.signUpAndIn()
      const { token } = await createToken(account)
      await warmOnB(account.session)
      await warmOnB(token)
      await ok(a, transport(), 'AdminLockAccount', { login: account.login, reason: 'INC-14: load test' }, operator)
      return (await unauthenticated(account.session)) || (await unauthenticated(token))
    })
  })
}
