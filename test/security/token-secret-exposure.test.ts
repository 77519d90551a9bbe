import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { credentialDigest } from '../../src/domain/credentials.js'
import { startTestApp, type TestApp } from '../support/app.js'

/**
 * Threat: the token secret leaks after its one showing: through GetTokens, GetSession, the
 * audit history, error messages or the logs. Only CreateToken and RegenerateToken may carry it.
 */

let app: TestApp
before(async () => {
  app = await startTestApp({ LOG_LEVEL: 'trace' })
})
after(async () => {
  await app?.close()
})

test('after CreateToken and RegenerateToken, the secret appears in no reply and no log line', async () => {
  const { login, password } = await app.signUp()
  const session = await app.signIn(login, password)
  const created = await app.api(
    'CreateToken',
    { password, description: 'secret keeper', apiList: ['environment.*'] },
    { bearer: session },
  )
  const token = String(created.body['token'])
  const regenerated = await app.rpc('RegenerateToken', { id: created.body['id'], password }, { bearer: session })
  const fresh = String(regenerated.body.result?.['token'])
  assert.match(fresh, /^lkp_/)

  const replies = [
    await app.api('GetSession', { apiMethod: 'environment.file.read' }, { bearer: fresh }),
    await app.api('GetTokens', {}, { bearer: session }),
    await app.rpc('GetTokens', {}, { bearer: session }),
    await app.api('EditToken', { id: created.body['id'], password, description: 'edited' }, { bearer: session }),
    await app.api('GetSigninHistory', { limit: 100 }, { bearer: session }),
    await app.api('GetSession', {}, { bearer: token }), // the old one: refused
    await app.api(
      'CreateToken',
      { password, description: 'x', apiList: ['environment.*', fresh] },
      { bearer: session },
    ), // a token pasted where a method belongs
    await app.api('GetTokens', {}, { bearer: fresh }), // a PAT where a session is needed
  ]
  const secrets = [token, fresh].flatMap((t) => [t.slice(4, 36), credentialDigest(t)])
  for (const r of replies) {
    const text = JSON.stringify(r.body)
    for (const secret of secrets) assert.ok(!text.includes(secret), `leaked in ${text.slice(0, 300)}`)
  }
  const logs = app.logLines.join('\n')
  for (const secret of secrets) assert.ok(!logs.includes(secret), 'a token secret or digest reached the logs')
})
