import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { startTestApp, type TestApp } from '../support/app.js'

/**
 * Threat: one account acting on another's tokens by id (ids show in GetTokens, logs, support
 * tickets). Edits and regenerations answer NOT_FOUND exactly as for an id that does not exist;
 * deletes simply count nothing; the victim's token keeps working unchanged.
 */

type Json = Record<string, unknown>

let app: TestApp
let victim: { password: string; session: string; accountId: string }
let attacker: { password: string; session: string }
let target: { id: string; token: string }
let listedBefore: unknown

async function reply(transport: 'rpc' | 'api', method: string, params: Json, bearer: string) {
  const r = transport === 'rpc' ? await app.rpc(method, params, { bearer }) : await app.api(method, params, { bearer })
  const error = r.body.error
  return {
    status: r.status,
    error,
    result: transport === 'rpc' ? r.body.result : error === undefined ? r.body : undefined,
  }
}

async function tokensOf(session: string) {
  return (await app.api('GetTokens', {}, { bearer: session })).body['tokens']
}

before(async () => {
  app = await startTestApp()
  const a = await app.signUp()
  victim = { password: a.password, session: await app.signIn(a.login, a.password), accountId: a.accountId }
  const b = await app.signUp()
  attacker = { password: b.password, session: await app.signIn(b.login, b.password) }
  const created = await app.api(
    'CreateToken',
    { password: victim.password, description: 'victim', apiList: ['billing.*'] },
    { bearer: victim.session },
  )
  target = { id: String(created.body['id']), token: String(created.body['token']) }
  await app.api('GetSession', {}, { bearer: target.token })
  listedBefore = await tokensOf(victim.session)
})
after(async () => {
  await app?.close()
})

for (const transport of ['rpc', 'api'] as const) {
  test(`over ${transport}: EditToken and RegenerateToken on another account's token are NOT_FOUND, like an unknown id`, async () => {
    const unknownId = '00000000-0000-4000-8000-000000000000'
    for (const [method, extra] of [
      ['EditToken', { apiList: null, expiresAt: null, description: 'mine now' }],
      ['RegenerateToken', {}],
    ] as const) {
      const theirs = await reply(
        transport,
        method,
        { id: target.id, password: attacker.password, ...extra },
        attacker.session,
      )
      const missing = await reply(
        transport,
        method,
        { id: unknownId, password: attacker.password, ...extra },
        attacker.session,
      )
      assert.equal(theirs.error?.data['reason'], 'NOT_FOUND', JSON.stringify(theirs))
      assert.equal(theirs.status, transport === 'rpc' ? 200 : 404)
      // No oracle: the answer for someone else's id is the answer for no id at all.
      assert.deepEqual(theirs.error, missing.error)
      assert.equal(theirs.result, undefined)
    }
  })

  test(`over ${transport}: DeleteTokens with another account's ids counts 0; "*" only reaches the caller's own`, async () => {
    const byId = await reply(
      transport,
      'DeleteTokens',
      { ids: [target.id], password: attacker.password },
      attacker.session,
    )
    assert.deepEqual(byId.result, { count: 0 })
    await app.api('CreateToken', { password: attacker.password, description: 'own' }, { bearer: attacker.session })
    const all = await reply(transport, 'DeleteTokens', { ids: '*', password: attacker.password }, attacker.session)
    assert.deepEqual(all.result, { count: 1 })
  })
}

test("the victim's token still works, unchanged, and its owner still sees it as before", async () => {
  const described = await app.api('GetSession', { apiMethod: 'billing.account.getBalance' }, { bearer: target.token })
  assert.equal(described.status, 200)
  assert.equal(described.body['accountId'], victim.accountId)
  assert.deepEqual(described.body['apiList'], ['billing.*'])
  assert.equal(described.body['expiresAt'], null)
  assert.equal(described.body['allowed'], true)
  const listedAfter = await tokensOf(victim.session)
  assert.ok(Array.isArray(listedAfter) && Array.isArray(listedBefore))
  const strip = (list: unknown[]) => list.map((t) => ({ ...(t as Json), lastUsedAt: null, lastUsedIp: null }))
  assert.deepEqual(strip(listedAfter), strip(listedBefore))
})

test("the attacker never sees the victim's tokens", async () => {
  assert.deepEqual(await tokensOf(attacker.session), [])
})

test("the victim's session cannot be used by ids either: a PAT of the attacker's gives the attacker's account", async () => {
  const created = await app.api(
    'CreateToken',
    { password: attacker.password, description: 'x' },
    { bearer: attacker.session },
  )
  const described = await app.api('GetSession', {}, { bearer: String(created.body['token']) })
  assert.notEqual(described.body['accountId'], victim.accountId)
})
