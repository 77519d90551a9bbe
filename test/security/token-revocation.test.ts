import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { probeMethod } from '../support/probe-method.js'
import { Invoker } from '../../src/rpc/invoke.js'
import { methodTable } from '../../src/rpc/methods.js'
import { startTwoInstances, type TestApp, type TwoInstances } from '../support/app.js'
import { type Json, ok as okOn, outcome } from '../support/calls.js'

/**
 * Threat: a revoked, rotated or narrowed token keeps working somewhere because a cache outlived
 * the change. Instance `first` changes the token; instance `second`, sharing Postgres and Redis
 * and holding the token in its cache, must see the change on the very next call.
 */

let instances: TwoInstances
let first: TestApp
let second: TestApp
before(async () => {
  // A long cache lifetime: only eviction can make these tests pass.
  instances = await startTwoInstances({ TOKEN_CACHE_SECONDS: '300' })
  first = instances.a
  second = instances.b
})
after(async () => {
  await instances?.close()
})

const account = () => first.signUpAndIn()

const ok = (app: TestApp, method: string, params: Json, bearer: string) => okOn(app, 'api', method, params, { bearer })

async function createToken(session: string, password: string, extra: Json = {}) {
  const body = await ok(first, 'CreateToken', { password, description: 'revocable', ...extra }, session)
  return { id: String(body['id']), token: String(body['token']) }
}

/** Uses the token twice on `second`, so the second use is served from the cache. */
async function warm(token: string) {
  for (let i = 0; i < 2; i++) assert.equal((await ok(second, 'GetSession', {}, token))['authType'], 'token')
}

const reasonOnSecond = (token: string, transport: 'rpc' | 'api', params: Json = {}) =>
  outcome(second, transport, 'GetSession', params, { bearer: token })

for (const transport of ['rpc', 'api'] as const) {
  describe(`on the other instance, over ${transport}`, () => {
    test('a regenerated token: the old secret fails at once, the new one works', async () => {
      const { password, session } = await account()
      const { id, token } = await createToken(session, password, { apiList: ['environment.*'] })
      await warm(token)
      const regenerated = await ok(first, 'RegenerateToken', { id, password }, session)
      assert.equal(await reasonOnSecond(token, transport), 'UNAUTHENTICATED')
      const fresh = String(regenerated['token'])
      assert.equal(await reasonOnSecond(fresh, transport), 'OK')
      assert.deepEqual((await ok(second, 'GetSession', {}, fresh))['apiList'], ['environment.*'])
      // And it stays dead, after the fresh one is cached too.
      assert.equal(await reasonOnSecond(token, transport), 'UNAUTHENTICATED')
    })

    test('deleted tokens fail at once, by id and by "*"', async () => {
      const { password, session } = await account()
      const one = await createToken(session, password)
      const two = await createToken(session, password)
      const three = await createToken(session, password)
      for (const t of [one, two, three]) await warm(t.token)

      assert.deepEqual(await ok(first, 'DeleteTokens', { ids: [one.id], password }, session), { count: 1 })
      assert.equal(await reasonOnSecond(one.token, transport), 'UNAUTHENTICATED')
      assert.equal(await reasonOnSecond(two.token, transport), 'OK')

      assert.deepEqual(await ok(first, 'DeleteTokens', { ids: '*', password }, session), { count: 2 })
      assert.equal(await reasonOnSecond(two.token, transport), 'UNAUTHENTICATED')
      assert.equal(await reasonOnSecond(three.token, transport), 'UNAUTHENTICATED')
    })

    test('a narrowed apiList applies at once; widening too', async () => {
      const { password, session } = await account()
      const { id, token } = await createToken(session, password)
      await warm(token)
      const allowed = async (apiMethod: string) => (await ok(second, 'GetSession', { apiMethod }, token))['allowed']
      assert.equal(await allowed('billing.payment.makePayment'), true)

      await ok(first, 'EditToken', { id, password, apiList: ['environment.info.*'] }, session)
      const narrowed = await ok(second, 'GetSession', { apiMethod: 'billing.payment.makePayment' }, token)
      assert.deepEqual(narrowed['apiList'], ['environment.info.*'])
      assert.equal(narrowed['allowed'], false)
      assert.equal(await allowed('environment.info.getStats'), true)
      assert.equal(await reasonOnSecond(token, transport, { apiMethod: 'environment.info.getStats' }), 'OK')

      await ok(first, 'EditToken', { id, password, apiList: ['environment.info.*', 'billing.*'] }, session)
      assert.equal(await allowed('billing.payment.makePayment'), true)
    })

    test('the pipeline on the other instance refuses a method removed from the apiList', async () => {
      const probe = probeMethod('billing.payment.makePayment')
      const invoker = new Invoker([...methodTable, probe], second.services)
      const callProbe = (token: string) =>
        invoker.invoke({
          method: probe.name,
          params: {},
          bearer: token,
          origin: { ip: '127.0.0.1', userAgent: null },
          log: second.services.log,
        })

      const { password, session } = await account()
      const { id, token } = await createToken(session, password, { apiList: ['billing.*'] })
      assert.ok((await callProbe(token)).ok)
      assert.ok((await callProbe(token)).ok)
      await ok(first, 'EditToken', { id, password, apiList: ['billing.account.*'] }, session)
      const refused = await callProbe(token)
      assert.ok(!refused.ok && refused.error.reason === 'FORBIDDEN')
    })
  })
}
