// The service on a real 3-master Redis Cluster: the 2FA and token flows end to end, /readyz from
// CLUSTER INFO, and a killed master answered UNAVAILABLE (never INTERNAL).
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { startTestApp, type TestApp } from '../support/app.js'
import { fails, ok } from '../support/calls.js'
import { clusterState, useTestCluster } from '../support/redis-cluster.js'
import { codeAt, enrolledAccount, pendingToken } from '../support/two-factor.js'

describe('on a Redis Cluster', () => {
  const cluster = useTestCluster()
  let t: TestApp
  before(async () => {
    t = await startTestApp({ REDIS_URL: '', REDIS_CLUSTER_NODES: cluster.cluster.nodes })
  })
  after(() => t.close())

  test('2FA: enrol, sign in with a pending token, verify a code, use the session', async () => {
    const account = await enrolledAccount(t, 'api')
    const pending = await pendingToken(t, 'api', account.login, account.password)
    const verified = await ok(t, 'api', 'Verify2FACode', {
      twoFactorToken: pending,
      code: await codeAt(account.secret, 0),
    })
    const session = String(verified['session'])
    assert.match(session, /^lks_/)
    const described = await ok(t, 'rpc', 'GetSession', {}, { bearer: session })
    assert.equal(described['accountId'], account.accountId)
    // The same code again is a replay, refused on the cluster as on one Redis.
    const again = await pendingToken(t, 'api', account.login, account.password)
    await fails(t, 'api', 'Verify2FACode', 'INVALID_2FA_CODE', {
      twoFactorToken: again,
      code: await codeAt(account.secret, 0),
    })
    const sessions = await ok(t, 'api', 'GetSessions', {}, { bearer: session })
    assert.ok(Array.isArray(sessions['sessions']) && sessions['sessions'].length >= 2)
    await ok(t, 'api', 'SignOut', {}, { bearer: session })
    await fails(t, 'api', 'GetSession', 'UNAUTHENTICATED', {}, { bearer: session })
  })

  test('tokens: create, use (cached), revoke, refused at once', async () => {
    const { password, session } = await t.signUpAndIn()
    const created = await ok(t, 'api', 'CreateToken', { password, description: 'cluster' }, { bearer: session })
    const pat = String(created['token'])
    for (let i = 0; i < 3; i++) await ok(t, 'api', 'GetSession', {}, { bearer: pat })
    await ok(t, 'api', 'DeleteTokens', { password, ids: [created['id']] }, { bearer: session })
    await fails(t, 'api', 'GetSession', 'UNAUTHENTICATED', {}, { bearer: pat })
  })

  test('sign-in limits count on the cluster (per-IP and per-login counters in different slots)', async () => {
    const limited = await startTestApp(
      { REDIS_URL: '', REDIS_CLUSTER_NODES: cluster.cluster.nodes, SIGNIN_MAX_PER_LOGIN_IP: '2' },
      {},
    )
    try {
      const { login } = await limited.signUp()
      for (let i = 0; i < 2; i++)
        await fails(limited, 'api', 'SignIn', 'INVALID_CREDENTIALS', { login, password: 'wrong-password-1' })
      await fails(limited, 'api', 'SignIn', 'RATE_LIMITED', { login, password: 'wrong-password-1' })
    } finally {
      await limited.close()
    }
  })

  test('/readyz is 200 while the cluster is ok', async () => {
    const reply = await t.app.inject({ method: 'GET', url: '/readyz' })
    assert.equal(reply.statusCode, 200, reply.body)
  })

  // Last: it breaks the cluster for this file.
  test('a killed master: calls answer UNAVAILABLE (never INTERNAL), /readyz 503', async () => {
    const { session } = await t.signUpAndIn()
    await cluster.cluster.kill(cluster.cluster.ports[0] ?? 0)
    // Until the others mark it failed (cluster-node-timeout 1 s) some slots still answer; wait for that.
    const deadline = Date.now() + 15_000
    let ready = 200
    while (Date.now() < deadline) {
      ready = (await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode
      if (ready === 503) break
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    assert.equal(ready, 503)
    const reasons = new Set<unknown>()
    for (let i = 0; i < 20; i++) {
      const { login, password } = { login: `nobody${i}@example.com`, password: 'whatever-password' }
      const signIn = await t.api('SignIn', { login, password })
      reasons.add(signIn.body.error?.data['reason'])
      const get = await t.api('GetSession', {}, { bearer: session })
      reasons.add(get.body.error?.data['reason'])
    }
    const unexpected = t.logLines.filter((line) => line.includes('"level":50'))
    // Slots on the live masters may still answer until the cluster marks itself failed; what fails
    // must fail as UNAVAILABLE.
    assert.ok(reasons.has('UNAVAILABLE'))
    reasons.delete(undefined)
    assert.deepEqual([...reasons], ['UNAVAILABLE'], unexpected.join('\n'))

    // Once the survivors report cluster_state:fail, every call needing Redis is UNAVAILABLE.
    const survivor = cluster.cluster.ports[1] ?? 0
    const failBy = Date.now() + 15_000
    while ((await clusterState(survivor)) !== 'fail') {
      assert.ok(Date.now() < failBy, 'the survivors never reported cluster_state:fail')
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    for (let i = 0; i < 10; i++) {
      const signIn = await t.api('SignIn', { login: `later${i}@example.com`, password: 'whatever-password' })
      assert.equal(signIn.body.error?.data['reason'], 'UNAVAILABLE')
      const get = await t.api('GetSession', {}, { bearer: session })
      assert.equal(get.status, 503)
    }
    assert.equal((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 503)
  })
})
