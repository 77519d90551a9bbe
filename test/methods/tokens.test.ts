import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Reason } from '../../src/errors.js'
import { credentialDigest, credentialKind } from '../../src/domain/credentials.js'
import { startTestApp, type TestApp } from '../support/app.js'
import { call as send, fails, type Json, list, ok, sleep } from '../support/calls.js'

const inSeconds = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString()
/** Every field a token's public view has, sorted: nothing else (no secret, no digest) may appear. */
const publicTokenFields = ['apiList', 'createdAt', 'description', 'expiresAt', 'hint', 'id', 'lastUsedAt', 'lastUsedIp']

let app: TestApp
before(async () => {
  app = await startTestApp()
})
after(async () => {
  await app?.close()
})

const account = () => app.signUpAndIn()

for (const transport of ['rpc', 'api'] as const) {
  describe(`tokens over ${transport}`, () => {
    const call = (method: string, params: Json | undefined, bearer?: string) =>
      ok(app, transport, method, params, { bearer })
    const refused = (method: string, params: Json | undefined, bearer: string | undefined, reason: Reason) =>
      fails(app, transport, method, reason, params, { bearer })
    const tokensOf = async (session: string) => list((await call('GetTokens', undefined, session))['tokens'])
    const historyOf = async (session: string) =>
      list((await call('GetSigninHistory', { limit: 100 }, session))['events']).map((e) => e['type'])

    describe('CreateToken', () => {
      test('without apiList or expiry: a working lkp_ token for every catalog method', async () => {
        const { session, password, accountId } = await account()
        const before = Date.now()
        const created = await call('CreateToken', { password, description: 'ci deploys' }, session)
        assert.deepEqual(Object.keys(created).sort(), [
          'apiList',
          'createdAt',
          'description',
          'expiresAt',
          'id',
          'token',
        ])
        assert.equal(credentialKind(String(created['token'])), 'token')
        assert.equal(created['description'], 'ci deploys')
        assert.equal(created['apiList'], null)
        assert.equal(created['expiresAt'], null)
        assert.ok(Date.parse(String(created['createdAt'])) >= before - 1000)

        const described = await call(
          'GetSession',
          { apiMethod: 'billing.account.getBalance' },
          String(created['token']),
        )
        assert.equal(described['authType'], 'token')
        assert.equal(described['accountId'], accountId)
        assert.equal(described['apiList'], null)
        assert.equal(described['allowed'], true)
        assert.ok((await historyOf(session)).includes('token.created'))
      })

      test('with apiList and expiresAt: both kept', async () => {
        const { session, password } = await account()
        const expiresAt = inSeconds(3600)
        const apiList = ['environment.*', 'billing.account.getBalance', 'GetSession']
        const created = await call('CreateToken', { password, description: 'scoped', apiList, expiresAt }, session)
        assert.deepEqual(created['apiList'], apiList)
        assert.equal(created['expiresAt'], expiresAt)
        const described = await call('GetSession', {}, String(created['token']))
        assert.deepEqual(described['apiList'], apiList)
        assert.equal(described['expiresAt'], expiresAt)
      })

      test('an empty apiList is allowed and grants no catalog method', async () => {
        const { session, password } = await account()
        const created = await call('CreateToken', { password, description: 'nothing', apiList: [] }, session)
        assert.deepEqual(created['apiList'], [])
        const described = await call('GetSession', { apiMethod: 'environment.file.read' }, String(created['token']))
        assert.equal(described['allowed'], false)
        // Every PAT may call GetSession itself, whatever its apiList.
        const itself = await call('GetSession', { apiMethod: 'GetSession' }, String(created['token']))
        assert.equal(itself['allowed'], true)
        const other = await call('GetSession', { apiMethod: 'GetTokens' }, String(created['token']))
        assert.equal(other['allowed'], false)
      })

      test('unknown apiList entries: INVALID_PARAMS naming each, nothing created', async () => {
        const { session, password } = await account()
        const error = await refused(
          'CreateToken',
          {
            password,
            description: 'typo',
            apiList: ['environment.control.start', 'environment.contrl.stop', 'nosuch.*', '*'],
          },
          session,
          'INVALID_PARAMS',
        )
        for (const entry of ['environment.contrl.stop', 'nosuch.*', '*'])
          assert.ok(error.message.includes(entry), `${entry} not named in ${error.message}`)
        assert.ok(!error.message.includes('environment.control.start'))
        const errors = list(error.data['errors'])
        assert.deepEqual(
          errors.map((e) => e['field']),
          ['/apiList/1', '/apiList/2', '/apiList/3'],
        )
        assert.ok(errors.every((e) => typeof e['message'] === 'string'))
        assert.deepEqual(await tokensOf(session), [])
      })

      test('expiresAt in the past or now: INVALID_PARAMS naming expiresAt', async () => {
        const { session, password } = await account()
        for (const expiresAt of [inSeconds(-60), '2001-01-01T00:00:00Z']) {
          const error = await refused(
            'CreateToken',
            { password, description: 'late', expiresAt },
            session,
            'INVALID_PARAMS',
          )
          assert.equal(list(error.data['errors'])[0]?.['field'], '/expiresAt')
        }
        assert.deepEqual(await tokensOf(session), [])
      })

      test('schema violations: INVALID_PARAMS', async () => {
        const { session, password } = await account()
        const bad: Json[] = [
          { password, description: '' },
          { password, description: 'x'.repeat(201) },
          { password },
          { password, description: 'd', apiList: ['GetSession', 'GetSession'] },
          { password, description: 'd', apiList: Array.from({ length: 201 }, (_, i) => `n${i}`) },
          { password, description: 'd', apiList: 'environment.*' },
          { password, description: 'd', expiresAt: 'tomorrow' },
          { password, description: 'd', extra: true },
          { description: 'no password' },
        ]
        for (const params of bad) await refused('CreateToken', params, session, 'INVALID_PARAMS')
        await call('CreateToken', { password, description: 'x'.repeat(200), apiList: ['GetSession'] }, session)
        assert.equal((await tokensOf(session)).length, 1)
      })

      test('wrong password: INVALID_CREDENTIALS, nothing created', async () => {
        const { session } = await account()
        await refused('CreateToken', { password: 'not the password', description: 'x' }, session, 'INVALID_CREDENTIALS')
        assert.deepEqual(await tokensOf(session), [])
      })

      test('no credential: UNAUTHENTICATED', async () => {
        await refused('CreateToken', { password: 'whatever1', description: 'x' }, undefined, 'UNAUTHENTICATED')
      })

      test('the session param works for header-less clients', async () => {
        const { session, password } = await account()
        const created = await call('CreateToken', { password, description: 'legacy', session })
        assert.equal(credentialKind(String(created['token'])), 'token')
      })
    })

    describe('GetTokens', () => {
      test('public fields only: hint is the last 4 characters, never the secret or its digest', async () => {
        const { session, password } = await account()
        const first = await call('CreateToken', { password, description: 'one', apiList: ['environment.*'] }, session)
        const second = await call('CreateToken', { password, description: 'two', expiresAt: inSeconds(600) }, session)
        const reply = await call('GetTokens', undefined, session)
        const tokens = list(reply['tokens'])
        assert.equal(tokens.length, 2)
        const text = JSON.stringify(reply)
        for (const created of [first, second]) {
          const token = String(created['token'])
          assert.ok(!text.includes(token.slice(4, 36)), 'the secret leaked')
          assert.ok(!text.includes(credentialDigest(token)), 'the digest leaked')
          const entry = tokens.find((t) => t['id'] === created['id'])
          assert.ok(entry !== undefined)
          assert.deepEqual(Object.keys(entry).sort(), publicTokenFields)
          assert.equal(entry['hint'], token.slice(-4))
          assert.equal(entry['description'], created['description'])
          assert.deepEqual(entry['apiList'], created['apiList'])
          assert.equal(entry['expiresAt'], created['expiresAt'])
          assert.equal(entry['createdAt'], created['createdAt'])
          assert.equal(entry['lastUsedAt'], null)
          assert.equal(entry['lastUsedIp'], null)
        }
      })

      test('lastUsedAt and lastUsedIp show right after a use, and follow later uses', async () => {
        const { session, password } = await account()
        const created = await call('CreateToken', { password, description: 'used' }, session)
        const token = String(created['token'])
        const before = Date.now()
        await call('GetSession', {}, token)
        const [used] = await tokensOf(session)
        assert.ok(used !== undefined)
        assert.equal(used['lastUsedIp'], '127.0.0.1')
        const firstUse = Date.parse(String(used['lastUsedAt']))
        assert.ok(
          firstUse >= before - 1000 && firstUse <= Date.now() + 1000,
          `lastUsedAt ${String(used['lastUsedAt'])}`,
        )

        await sleep(20)
        await call('GetSession', {}, token) // a cache hit: recorded in Redis, not yet in Postgres
        const [again] = await tokensOf(session)
        assert.ok(Date.parse(String(again?.['lastUsedAt'])) > firstUse)
      })

      test("another account's tokens are not listed", async () => {
        const a = await account()
        const b = await account()
        await call('CreateToken', { password: a.password, description: 'a' }, a.session)
        assert.deepEqual(await tokensOf(b.session), [])
      })

      test('a PAT cannot list tokens', async () => {
        const { session, password } = await account()
        const token = String((await call('CreateToken', { password, description: 'x' }, session))['token'])
        await refused('GetTokens', undefined, token, 'FORBIDDEN')
        await refused('GetTokens', undefined, undefined, 'UNAUTHENTICATED')
      })
    })

    describe('EditToken', () => {
      test('changes description, apiList and expiresAt and returns the public fields', async () => {
        const { session, password } = await account()
        const created = await call('CreateToken', { password, description: 'before' }, session)
        const expiresAt = inSeconds(7200)
        const edited = await call(
          'EditToken',
          { id: created['id'], password, description: 'after', apiList: ['billing.*'], expiresAt },
          session,
        )
        assert.deepEqual(Object.keys(edited).sort(), publicTokenFields)
        assert.equal(edited['id'], created['id'])
        assert.equal(edited['description'], 'after')
        assert.deepEqual(edited['apiList'], ['billing.*'])
        assert.equal(edited['expiresAt'], expiresAt)
        assert.equal(edited['hint'], String(created['token']).slice(-4))
        assert.deepEqual((await tokensOf(session))[0], edited)
        assert.ok((await historyOf(session)).includes('token.edited'))
      })

      test('absent fields stay; null apiList means every method; null expiresAt clears the expiry', async () => {
        const { session, password } = await account()
        const created = await call(
          'CreateToken',
          { password, description: 'keep', apiList: ['environment.*'], expiresAt: inSeconds(600) },
          session,
        )
        const token = String(created['token'])
        const onlyDescription = await call(
          'EditToken',
          { id: created['id'], password, description: 'renamed' },
          session,
        )
        assert.deepEqual(onlyDescription['apiList'], ['environment.*'])
        assert.equal(onlyDescription['expiresAt'], created['expiresAt'])

        const cleared = await call(
          'EditToken',
          { id: created['id'], password, apiList: null, expiresAt: null },
          session,
        )
        assert.equal(cleared['apiList'], null)
        assert.equal(cleared['expiresAt'], null)
        assert.equal(cleared['description'], 'renamed')
        const described = await call('GetSession', { apiMethod: 'billing.payment.makePayment' }, token)
        assert.equal(described['expiresAt'], null)
        assert.equal(described['apiList'], null)
        assert.equal(described['allowed'], true)
      })

      test('a past expiresAt or an unknown apiList entry: INVALID_PARAMS, nothing changes', async () => {
        const { session, password } = await account()
        const created = await call('CreateToken', { password, description: 'same' }, session)
        const error = await refused(
          'EditToken',
          { id: created['id'], password, expiresAt: inSeconds(-1) },
          session,
          'INVALID_PARAMS',
        )
        assert.equal(list(error.data['errors'])[0]?.['field'], '/expiresAt')
        const unknown = await refused(
          'EditToken',
          { id: created['id'], password, apiList: ['billing.nope'] },
          session,
          'INVALID_PARAMS',
        )
        assert.ok(unknown.message.includes('billing.nope'))
        await refused('EditToken', { id: created['id'], password, description: '' }, session, 'INVALID_PARAMS')
        await refused('EditToken', { id: 'not-a-uuid', password }, session, 'INVALID_PARAMS')
        const [token] = await tokensOf(session)
        assert.equal(token?.['description'], 'same')
        assert.equal(token?.['apiList'], null)
        assert.equal(token?.['expiresAt'], null)
      })

      test('an unknown id: NOT_FOUND', async () => {
        const { session, password } = await account()
        await refused(
          'EditToken',
          { id: '00000000-0000-4000-8000-000000000000', password, description: 'x' },
          session,
          'NOT_FOUND',
        )
      })

      test('wrong password: INVALID_CREDENTIALS, nothing changes', async () => {
        const { session, password } = await account()
        const created = await call('CreateToken', { password, description: 'same' }, session)
        await refused(
          'EditToken',
          { id: created['id'], password: 'wrong password', description: 'changed' },
          session,
          'INVALID_CREDENTIALS',
        )
        assert.equal((await tokensOf(session))[0]?.['description'], 'same')
      })
    })

    describe('RegenerateToken', () => {
      test('a new secret under the same id; the old one stops working at once', async () => {
        const { session, password } = await account()
        const created = await call(
          'CreateToken',
          { password, description: 'rotate', apiList: ['environment.*'] },
          session,
        )
        const old = String(created['token'])
        await call('GetSession', {}, old)
        const regenerated = await call('RegenerateToken', { id: created['id'], password }, session)
        assert.deepEqual(Object.keys(regenerated).sort(), ['id', 'token'])
        assert.equal(regenerated['id'], created['id'])
        const fresh = String(regenerated['token'])
        assert.notEqual(fresh, old)
        assert.equal(credentialKind(fresh), 'token')

        await refused('GetSession', {}, old, 'UNAUTHENTICATED')
        const described = await call('GetSession', {}, fresh)
        assert.deepEqual(described['apiList'], ['environment.*'])
        const [listed] = await tokensOf(session)
        assert.equal(listed?.['hint'], fresh.slice(-4))
        assert.equal(listed?.['description'], 'rotate')
        assert.ok((await historyOf(session)).includes('token.regenerated'))
      })

      test('an unknown id: NOT_FOUND; wrong password: INVALID_CREDENTIALS and the token keeps working', async () => {
        const { session, password } = await account()
        await refused('RegenerateToken', { id: '00000000-0000-4000-8000-000000000000', password }, session, 'NOT_FOUND')
        const created = await call('CreateToken', { password, description: 'x' }, session)
        await refused(
          'RegenerateToken',
          { id: created['id'], password: 'wrong password' },
          session,
          'INVALID_CREDENTIALS',
        )
        await call('GetSession', {}, String(created['token']))
        await refused('RegenerateToken', { id: created['id'] }, session, 'INVALID_PARAMS')
      })
    })

    describe('DeleteTokens', () => {
      test('by id: counts what was deleted, and deleted tokens stop working at once', async () => {
        const { session, password } = await account()
        const [a, b, c] = await Promise.all(
          ['a', 'b', 'c'].map((description) => call('CreateToken', { password, description }, session)),
        )
        assert.ok(a !== undefined && b !== undefined && c !== undefined)
        await call('GetSession', {}, String(a['token']))
        const deleted = await call(
          'DeleteTokens',
          { ids: [a['id'], b['id'], '00000000-0000-4000-8000-000000000000'], password },
          session,
        )
        assert.deepEqual(deleted, { count: 2 })
        await refused('GetSession', {}, String(a['token']), 'UNAUTHENTICATED')
        await refused('GetSession', {}, String(b['token']), 'UNAUTHENTICATED')
        await call('GetSession', {}, String(c['token']))
        assert.deepEqual(
          (await tokensOf(session)).map((t) => t['id']),
          [c['id']],
        )
        assert.ok((await historyOf(session)).includes('token.deleted'))
        assert.deepEqual(await call('DeleteTokens', { ids: [a['id']], password }, session), { count: 0 })
      })

      test('"*" deletes every token of the account', async () => {
        const { session, password } = await account()
        const tokens = await Promise.all(
          [1, 2, 3].map((n) => call('CreateToken', { password, description: `t${n}` }, session)),
        )
        for (const t of tokens) await call('GetSession', {}, String(t['token']))
        assert.deepEqual(await call('DeleteTokens', { ids: '*', password }, session), { count: 3 })
        for (const t of tokens) await refused('GetSession', {}, String(t['token']), 'UNAUTHENTICATED')
        assert.deepEqual(await tokensOf(session), [])
        assert.deepEqual(await call('DeleteTokens', { ids: '*', password }, session), { count: 0 })
      })

      test('bad ids: INVALID_PARAMS; wrong password: INVALID_CREDENTIALS and nothing is deleted', async () => {
        const { session, password } = await account()
        const created = await call('CreateToken', { password, description: 'stays' }, session)
        for (const ids of [[], ['nope'], 'all', [created['id'], created['id']]])
          await refused('DeleteTokens', { ids, password }, session, 'INVALID_PARAMS')
        await refused('DeleteTokens', { ids: '*', password: 'wrong password' }, session, 'INVALID_CREDENTIALS')
        await call('GetSession', {}, String(created['token']))
        assert.equal((await tokensOf(session)).length, 1)
      })
    })

    describe('GetTokenApiList', () => {
      test("the catalog: the platform methods and this service's token-callable ones, nothing session-only", async () => {
        const { session } = await account()
        const methods = list((await call('GetTokenApiList', undefined, session))['methods'])
        const names = methods.map((m) => m['name'])
        assert.ok(
          methods.every(
            (m) => typeof m['name'] === 'string' && typeof m['description'] === 'string' && Object.keys(m).length === 2,
          ),
        )
        for (const name of [
          'GetSession',
          'environment.control.start',
          'environment.file.read',
          'billing.account.getBalance',
          'marketplace.app.install',
          'users.account.getUserInfo',
        ]) {
          assert.ok(names.includes(name), `${name} missing`)
        }
        for (const name of ['CreateToken', 'GetTokens', 'ChangePassword', 'SignIn', 'GetTokenApiList'])
          assert.ok(!names.includes(name), `${name} listed`)
        assert.equal(new Set(names).size, names.length)
        assert.ok(names.length >= 40)
      })

      test('needs a session', async () => {
        const { session, password } = await account()
        const token = String((await call('CreateToken', { password, description: 'x' }, session))['token'])
        await refused('GetTokenApiList', undefined, token, 'FORBIDDEN')
        await refused('GetTokenApiList', undefined, undefined, 'UNAUTHENTICATED')
        await refused('GetTokenApiList', { extra: 1 }, session, 'INVALID_PARAMS')
      })
    })
  })
}

describe('token cap', () => {
  let capped: TestApp
  before(async () => {
    capped = await startTestApp({ TOKEN_MAX_PER_ACCOUNT: '3' })
  })
  after(async () => {
    await capped?.close()
  })

  const create = (session: string, password: string, description: string) =>
    send(capped, 'api', 'CreateToken', { password, description }, { bearer: session })

  test('past TOKEN_MAX_PER_ACCOUNT: CONFLICT, until one is deleted', async () => {
    const { login, password } = await capped.signUp()
    const session = await capped.signIn(login, password)
    const ids: unknown[] = []
    for (const n of [1, 2, 3]) {
      const outcome = await create(session, password, `t${n}`)
      assert.ok(outcome.ok)
      ids.push(outcome.result['id'])
    }
    const fourth = await fails(
      capped,
      'rpc',
      'CreateToken',
      'CONFLICT',
      { password, description: 't4' },
      { bearer: session },
    )
    assert.equal(fourth.reason, 'CONFLICT')
    await ok(capped, 'api', 'DeleteTokens', { ids: [ids[0]], password }, { bearer: session })
    assert.ok((await create(session, password, 't5')).ok)
  })

  test('parallel creates cannot pass the cap', async () => {
    const { login, password } = await capped.signUp()
    const session = await capped.signIn(login, password)
    const outcomes = await Promise.all(Array.from({ length: 8 }, (_, n) => create(session, password, `p${n}`)))
    assert.equal(outcomes.filter((o) => o.ok).length, 3)
    for (const o of outcomes) if (!o.ok) assert.equal(o.reason, 'CONFLICT')
    assert.equal(list((await ok(capped, 'api', 'GetTokens', undefined, { bearer: session }))['tokens']).length, 3)
  })

  test('the cap is per account', async () => {
    const { login, password } = await capped.signUp()
    const session = await capped.signIn(login, password)
    for (const n of [1, 2, 3]) assert.ok((await create(session, password, `own${n}`)).ok)
  })
})
