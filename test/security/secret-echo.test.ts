/**
 * Threat: an error reply that hands a secret back (into a proxy's log, a browser's cache, an
 * error tracker). Every method gets bad params stuffed with credential-shaped strings and
 * passwords (as values, as member names, as positional params, in nested values, as the method
 * name itself, in the `session` param and the Authorization header) on both transports; no reply
 * body or header may contain any of them.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { methodTable } from '../../src/rpc/methods.js'
import {
  newPendingCredential,
  newPersonalAccessToken,
  newSessionCredential,
  randomString,
} from '../../src/domain/credentials.js'
import { startTestApp, strongPassword, type TestApp } from '../support/app.js'

const base62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const credentials = [
  newSessionCredential(),
  newPendingCredential(),
  newPersonalAccessToken(),
  `lka_${randomString(base62, 40)}`,
]
const passwords = [strongPassword(), `hunter2-${randomString(base62, 12)}`, '123456']
const secrets = [...credentials, ...passwords.slice(0, 2)]

let t: TestApp
let session: string
let password: string
let tokenId: string

before(async () => {
  t = await startTestApp()
  const account = await t.signUpAndIn()
  session = account.session
  password = account.password
  const created = await t.api('CreateToken', { password, description: 'echo scan' }, { bearer: session })
  tokenId = String(created.body['id'])
})
after(() => t.close())

interface Sent {
  label: string
  status: number
  text: string
}

const seen: Sent[] = []

async function send(label: string, url: string, payload: unknown, bearer?: string): Promise<void> {
  const reply = await t.app.inject({
    method: 'POST',
    url,
    headers: {
      'content-type': 'application/json',
      ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }),
    },
    payload: JSON.stringify(payload),
  })
  seen.push({ label, status: reply.statusCode, text: `${JSON.stringify(reply.headers)}\n${reply.body}` })
}

/** The same params on both transports. */
async function both(label: string, method: string, params: unknown, bearer?: string): Promise<void> {
  await send(`${label} /api`, `/api/${method}`, params, bearer)
  await send(`${label} /rpc`, '/rpc', { jsonrpc: '2.0', id: 7, method, params }, bearer)
}

function paramNames(method: (typeof methodTable)[number]): string[] {
  return Object.keys(method.params.properties)
}

test('no reply to hostile params echoes a credential or a password', async () => {
  for (const method of methodTable) {
    const names = paramNames(method)
    for (const [i, secret] of secrets.entries()) {
      for (const bearer of [undefined, session]) {
        const who = bearer === undefined ? 'anonymous' : 'session'
        // Every declared param set to the secret (mostly the wrong type or shape), plus an unknown member.
        await both(
          `${method.name} every param = secret ${i} (${who})`,
          method.name,
          { ...Object.fromEntries(names.map((n) => [n, secret])), [secrets[(i + 1) % secrets.length] ?? 'x']: secret },
          bearer,
        )
        // The secret nested one level down and inside arrays (methods without params would just run).
        if (names.length > 0)
          await both(
            `${method.name} nested secret ${i} (${who})`,
            method.name,
            Object.fromEntries(names.map((n) => [n, { [secret]: [secret] }])),
            bearer,
          )
        // A member named like the secret.
        await both(`${method.name} secret as a name ${i} (${who})`, method.name, { [secret]: 1 }, bearer)
        // Positional params.
        await both(`${method.name} positional ${i} (${who})`, method.name, [secret, secret], bearer)
        // The secret as the session param (a malformed or unknown credential).
        await both(`${method.name} session param ${i}`, method.name, { session: secret })
        await both(`${method.name} session param object ${i}`, method.name, { session: { secret } })
      }
      // The secret as the bearer credential.
      await both(`${method.name} bearer ${i}`, method.name, {}, secret)
    }
  }
  for (const secret of secrets) {
    // The secret as the method name.
    await send('method name /api', `/api/${secret}`, {})
    await send('method name /rpc', '/rpc', { jsonrpc: '2.0', id: 1, method: secret, params: { password: secret } })
    await send('rpc.* name', '/rpc', { jsonrpc: '2.0', id: 1, method: `rpc.${secret}` })
    // Handler-level checks that quote what they refuse.
    await both('CreateToken apiList', 'CreateToken', { password, description: 'x', apiList: [secret] }, session)
    await both('CreateToken bad password', 'CreateToken', { password: secret, description: 'x' }, session)
    await both('EditToken apiList', 'EditToken', { password, id: tokenId, apiList: [secret] }, session)
    await both('SignUp weak password', 'SignUp', {
      login: `weak${Date.now()}@example.com`,
      password: secret.slice(0, 6),
    })
    await both('SignIn', 'SignIn', { login: 'nobody@example.com', password: secret })
    await both('GetSession apiMethod', 'GetSession', { apiMethod: secret }, session)
    await both('Verify2FACode', 'Verify2FACode', { twoFactorToken: secret, code: secret })
    await both('ChangePassword', 'ChangePassword', { password: secret, newPassword: secret }, session)
  }

  assert.ok(seen.length > 1000, `only ${seen.length} replies`)
  const leaks: string[] = []
  for (const reply of seen) {
    for (const secret of secrets) {
      // The secret, or any long enough piece of it.
      const pieces = [secret, secret.slice(0, 14), secret.slice(-14)]
      if (pieces.some((piece) => reply.text.includes(piece))) leaks.push(`${reply.label}: ${reply.text.slice(0, 400)}`)
    }
  }
  assert.deepEqual(leaks.slice(0, 5), [])
})
