import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { startTestApp, type TestApp } from '../support/app.js'
import { call, type Json, ok, type Reply } from '../support/calls.js'

/**
 * Threat: one account acting on another's tokens by id (ids show in GetTokens, logs, support
 * tickets). Edits and regenerations answer NOT_FOUND exactly as for an id that does not exist;
 * deletes simply count nothing; the victim's token keeps working unchanged.
 */

let app: TestApp
let victim: { password: string; session: string; accountId: string }
let attacker: { password: string; session: string }
let target: { id: string; token: string }
let listedBefore: unknown

/** The error as the client sees it, for comparing two answers. */
const errorOf = (reply: Reply) =>
  reply.ok ? undefined : { code: reply.code, message: reply.message, data: reply.data }

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
      const theirs = await call(
        app,
        transport,
        method,
        { id: target.id, password: attacker.password, ...extra },
        { bearer: attacker.session },
      )
      const missing = await call(
        app,
        transport,
        method,
        { id: unknownId, password: attacker.password, ...extra },
        { bearer: attacker.session },
      )
      assert.equal(theirs.ok ? undefined : theirs.reason, 'NOT_FOUND', JSON.stringify(theirs))
      assert.equal(theirs.status, transport === 'rpc' ? 200 : 404)
      // No oracle: the answer for someone else's id is the answer for no id at all.
      assert.deepEqual(errorOf(theirs), errorOf(missing))
      assert.equal(theirs.ok ? theirs.result : undefined, undefined)
    }
  })

  test(`over ${transport}: DeleteTokens with another account's ids counts 0; "*" only reaches the caller's own`, async () => {
    const byId = await ok(
      app,
      transport,
      'DeleteTokens',
      { ids: [target.id], password: attacker.password },
      { bearer: attacker.session },
    )
    assert.deepEqual(byId, { count: 0 })
    await app.api('CreateToken', { password: attacker.password, description: 'own' }, { bearer: attacker.session })
    const all = await ok(
      app,
      transport,
      'DeleteTokens',
      { ids: '*', password: attacker.password },
      { bearer: attacker.session },
    )
    assert.deepEqual(all, { count: 1 })
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
