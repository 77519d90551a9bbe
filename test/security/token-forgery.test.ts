import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { credentialKind, newPersonalAccessToken } from '../../src/domain/credentials.js'
import { startTestApp, type TestApp } from '../support/app.js'
import { call, fails, transports } from '../support/calls.js'

/**
 * Threat: guessed, truncated, tampered or made-up personal access tokens. Each is UNAUTHENTICATED
 * on both transports, and the reply never echoes what was sent.
 */

let app: TestApp
let token: string
before(async () => {
  app = await startTestApp()
  const { login, password } = await app.signUp()
  const session = await app.signIn(login, password)
  const created = await app.api('CreateToken', { password, description: 'real' }, { bearer: session })
  token = String(created.body['token'])
  assert.equal(credentialKind(token), 'token')
})
after(async () => {
  await app?.close()
})

const base62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const bump = (char: string) => base62[(base62.indexOf(char) + 1) % 62] ?? '0'
const replaceAt = (value: string, index: number, char: string) => value.slice(0, index) + char + value.slice(index + 1)

async function assertUnauthenticated(credential: string, label: string) {
  for (const transport of transports) {
    const refused = await call(app, transport, 'GetSession', {}, { bearer: credential })
    assert.equal(refused.ok ? 'OK' : refused.reason, 'UNAUTHENTICATED', `${label} over ${transport}`)
    assert.equal(refused.status, transport === 'rpc' ? 200 : 401)
    if (credential.length > 8) assert.ok(!JSON.stringify(refused).includes(credential), 'the credential was echoed')
  }
  await fails(app, 'api', 'GetSession', 'UNAUTHENTICATED', { session: credential })
}

test('the real token works (control)', async () => {
  const reply = await app.api('GetSession', {}, { bearer: token })
  assert.equal(reply.status, 200)
  assert.equal(reply.body['authType'], 'token')
})

test('malformed tokens: UNAUTHENTICATED', async () => {
  const malformed: Array<[string, string]> = [
    ['lkp_', 'prefix only'],
    ['lkp_short', 'too short'],
    [token.slice(0, -1), 'truncated'],
    [`${token}0`, 'one character too many'],
    [`${token.slice(0, 10)}-${token.slice(11)}`, 'a character outside base62'],
    [`LKP_${token.slice(4)}`, 'upper-case prefix'],
    [`lks_${token.slice(4)}`, 'session prefix on a token body'],
    [`lkx_${token.slice(4)}`, 'unknown prefix'],
    [token.slice(4), 'no prefix'],
    ['', 'empty'],
  ]
  for (const [credential, label] of malformed) await assertUnauthenticated(credential, label)
})

test('a bad checksum: UNAUTHENTICATED', async () => {
  const last = token.length - 1
  await assertUnauthenticated(replaceAt(token, last, bump(token[last] ?? '0')), 'checksum digit changed')
  // A changed secret no longer matches its checksum.
  await assertUnauthenticated(replaceAt(token, 10, bump(token[10] ?? '0')), 'secret character changed')
  await assertUnauthenticated(`lkp_${token.slice(4, 36)}000000`, 'zeroed checksum')
})

test('a well-formed token that was never issued: UNAUTHENTICATED', async () => {
  const madeUp = newPersonalAccessToken()
  assert.equal(credentialKind(madeUp), 'token')
  await assertUnauthenticated(madeUp, 'made up')
})

test('the real token still works afterwards', async () => {
  const reply = await app.rpc('GetSession', {}, { bearer: token })
  assert.equal(reply.body.result?.['authType'], 'token')
})
