import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { startTwoInstances, type TestApp, type TwoInstances } from '../support/app.js'
import { type Json, ok as okOn, outcome, sleep } from '../support/calls.js'

/**
 * Threat: a token keeps working past its expiresAt, for instance because it sits in the cache
 * of another instance. Expiry is checked on every call, cached or not.
 */

let instances: TwoInstances
let first: TestApp
let second: TestApp
let session: string
let password: string
const tokens: Record<'expiring' | 'shortened' | 'cleared' | 'forever', string> = {
  expiring: '',
  shortened: '',
  cleared: '',
  forever: '',
}
// Far enough ahead that set-up (bcrypt, four tokens, two instances) ends before it even on a
// loaded machine; the test then waits until just past the latest expiry it set.
const lifetimeMs = 8000
let latestExpiry = 0
const expiry = () => {
  latestExpiry = Date.now() + lifetimeMs
  return new Date(latestExpiry).toISOString()
}

const ok = (app: TestApp, method: string, params: Json, bearer: string) => okOn(app, 'api', method, params, { bearer })
const reason = (app: TestApp, transport: 'rpc' | 'api', token: string) =>
  outcome(app, transport, 'GetSession', {}, { bearer: token })

before(async () => {
  instances = await startTwoInstances({ TOKEN_CACHE_SECONDS: '300' })
  first = instances.a
  second = instances.b
  const account = await first.signUp()
  password = account.password
  session = await first.signIn(account.login, password)

  const create = async (extra: Json) => ok(first, 'CreateToken', { password, description: 'expiry', ...extra }, session)
  const expiring = await create({ expiresAt: expiry() })
  const shortened = await create({})
  const cleared = await create({ expiresAt: expiry() })
  const forever = await create({})
  tokens.expiring = String(expiring['token'])
  tokens.shortened = String(shortened['token'])
  tokens.cleared = String(cleared['token'])
  tokens.forever = String(forever['token'])

  // Every token is cached on both instances before anything changes.
  for (const app of [first, second])
    for (const token of Object.values(tokens))
      for (let i = 0; i < 2; i++) assert.equal(await reason(app, 'api', token), 'OK')

  const shortenedTo = expiry()
  const edited = await ok(first, 'EditToken', { id: shortened['id'], password, expiresAt: shortenedTo }, session)
  assert.equal(edited['expiresAt'], shortenedTo)
  const unexpired = await ok(first, 'EditToken', { id: cleared['id'], password, expiresAt: null }, session)
  assert.equal(unexpired['expiresAt'], null)
  assert.equal((await ok(second, 'GetSession', {}, tokens.cleared))['expiresAt'], null)

  await sleep(Math.max(0, latestExpiry - Date.now()) + 300)
})
after(async () => {
  await instances?.close()
})

test('past expiresAt: UNAUTHENTICATED on every instance and transport', async () => {
  for (const app of [first, second])
    for (const transport of ['rpc', 'api'] as const)
      assert.equal(await reason(app, transport, tokens.expiring), 'UNAUTHENTICATED')
})

test('an expiry added by EditToken applies to the cached token too', async () => {
  for (const app of [first, second])
    for (const transport of ['rpc', 'api'] as const)
      assert.equal(await reason(app, transport, tokens.shortened), 'UNAUTHENTICATED')
})

test('EditToken expiresAt null clears the expiry', async () => {
  for (const app of [first, second])
    for (const transport of ['rpc', 'api'] as const) assert.equal(await reason(app, transport, tokens.cleared), 'OK')
})

test('tokens without expiry are unaffected', async () => {
  assert.equal(await reason(second, 'rpc', tokens.forever), 'OK')
})

test('an expired token is still listed, with its expiresAt, and can be deleted', async () => {
  const listed = await ok(first, 'GetTokens', {}, session)
  const entries = listed['tokens']
  assert.ok(Array.isArray(entries))
  assert.equal(entries.length, 4)
  assert.deepEqual(await ok(first, 'DeleteTokens', { ids: '*', password }, session), { count: 4 })
})
