/**
 * Threat: a stolen database dump, Redis dump or log archive. After a whole 2FA flow, none of
 * them may hold a TOTP secret (in any encoding), a recovery code, a session or lk2_ token or the
 * password: secrets are sealed, credentials are stored as digests, logs are redacted.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Redis } from 'ioredis'
import pg from 'pg'
import * as OTPAuth from 'otpauth'
import { startTestApp, testRedisUrl, type TestApp } from '../support/app.js'
import { ok } from '../support/calls.js'
import { codeAt, pendingToken } from '../support/two-factor.js'

let t: TestApp
before(async () => {
  // The most talkative level: whatever any code path logs is scanned.
  t = await startTestApp({ LOG_LEVEL: 'trace' })
})
after(async () => {
  await t?.close()
})

/** Every key name and value under the app's Redis prefix, bytes kept as latin1 so binary values survive. */
async function dumpRedis(): Promise<string> {
  const prefix = t.backing.env['REDIS_KEY_PREFIX']
  assert.ok(prefix !== undefined && prefix !== '', 'the test app runs on real Redis with a prefix')
  const redis = new Redis(testRedisUrl)
  const parts: string[] = []
  try {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
      cursor = next
      for (const key of keys) {
        parts.push(key)
        const type = await redis.type(key)
        const values: Buffer[] =
          type === 'string'
            ? [(await redis.getBuffer(key)) ?? Buffer.alloc(0)]
            : type === 'hash'
              ? Object.entries(await redis.hgetallBuffer(key)).flatMap(([field, value]) => [
                  Buffer.from(field, 'latin1'),
                  value,
                ])
              : type === 'set'
                ? await redis.smembersBuffer(key)
                : type === 'zset'
                  ? await redis.zrangeBuffer(key, 0, -1, 'WITHSCORES')
                  : type === 'list'
                    ? await redis.lrangeBuffer(key, 0, -1)
                    : []
        assert.ok(['string', 'hash', 'set', 'zset', 'list', 'none'].includes(type), `unexpected Redis type ${type}`)
        parts.push(...values.map((v) => v.toString('latin1')))
      }
    } while (cursor !== '0')
  } finally {
    redis.disconnect()
  }
  return parts.join('\n')
}

/** Every row of every table of the test database as JSON (bytea shows as hex). */
async function dumpDatabase(): Promise<string> {
  const url = t.backing.env['DATABASE_URL']
  assert.ok(url !== undefined, 'the test app runs on real Postgres')
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const tables = await client.query<{ schema: string; name: string }>(
      `select table_schema as schema, table_name as name from information_schema.tables
       where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')`,
    )
    const parts: string[] = []
    for (const { schema, name } of tables.rows) {
      const rows = await client.query<{ row: string }>(
        `select row_to_json(t)::text as row from ${client.escapeIdentifier(schema)}.${client.escapeIdentifier(name)} t`,
      )
      parts.push(...rows.rows.map((r) => r.row))
    }
    return parts.join('\n')
  } finally {
    await client.end()
  }
}

function secretForms(base32: string): string[] {
  const bytes = Buffer.from(OTPAuth.Secret.fromBase32(base32).bytes)
  return [
    base32,
    base32.toLowerCase(),
    bytes.toString('hex'),
    bytes.toString('base64'),
    bytes.toString('base64').replace(/=+$/, ''),
    bytes.toString('base64url'),
    bytes.toString('latin1'),
  ]
}

function recoveryForms(code: string): string[] {
  const compact = code.replace('-', '')
  return [
    code,
    compact,
    code.toUpperCase(),
    compact.toUpperCase(),
    Buffer.from(code).toString('hex'),
    Buffer.from(compact).toString('hex'),
  ]
}

function assertHoldsNone(where: string, haystack: string, needles: Map<string, string>): void {
  for (const [needle, what] of needles) assert.ok(!haystack.includes(needle), `${where} holds ${what}`)
}

describe('secrets at rest', () => {
  test('database, Redis and log hold no secret after a full 2FA flow', async (ctx) => {
    const needles = new Map<string, string>()
    const snapshots: Array<[string, string]> = []
    const { login, password, accountId } = await t.signUp()
    needles.set(password, 'the password')
    const session = await t.signIn(login, password)
    const as = { bearer: session }

    // An abandoned enrolment and the one that is finished: both secrets were in Redis for a while.
    const abandoned = String((await ok(t, 'api', 'Get2FAConfig', { password }, as))['secret'])
    snapshots.push(['Redis with an enrolment pending', await dumpRedis()])
    const config = await ok(t, 'rpc', 'Get2FAConfig', { password }, as)
    const secret = String(config['secret'])
    snapshots.push(['Redis with a restarted enrolment pending', await dumpRedis()])
    for (const form of secretForms(abandoned)) needles.set(form, 'the abandoned TOTP secret')
    for (const form of secretForms(secret)) needles.set(form, 'the TOTP secret')

    const recoveryCodes = (
      (await ok(t, 'api', 'Enable2FA', { code: await codeAt(secret, -1) }, as))['recoveryCodes'] as unknown[]
    ).map(String)
    const tokens = [session]
    const totpToken = await pendingToken(t, 'api', login, password)
    tokens.push(totpToken)
    snapshots.push(['Redis with a sign-in pending', await dumpRedis()])
    tokens.push(
      String(
        (await ok(t, 'api', 'Verify2FACode', { twoFactorToken: totpToken, code: await codeAt(secret, 0) }))['session'],
      ),
    )
    const recoveryToken = await pendingToken(t, 'rpc', login, password)
    tokens.push(recoveryToken)
    tokens.push(
      String(
        (await ok(t, 'rpc', 'Verify2FACode', { twoFactorToken: recoveryToken, code: recoveryCodes[0] }))['session'],
      ),
    )
    await ok(t, 'api', 'GetRecoveryCodes', { password }, as)
    const regenerated = (
      (await ok(t, 'rpc', 'RegenerateRecoveryCodes', { password }, as))['recoveryCodes'] as unknown[]
    ).map(String)
    await ok(t, 'api', 'GetRecoveryCodes', { password }, { bearer: tokens.at(-1) })
    await ok(t, 'api', 'Get2FAStatus', {}, as)

    for (const code of [...recoveryCodes, ...regenerated])
      for (const form of recoveryForms(code)) needles.set(form, 'a recovery code')
    for (const token of tokens) {
      needles.set(token, `a ${token.slice(0, 4)} credential`)
      needles.set(token.slice(4), `the body of a ${token.slice(0, 4)} credential`)
    }

    const database = await dumpDatabase()
    const redis = await dumpRedis()
    const log = t.logLines.join('')
    // The dumps are real: they hold what they should.
    assert.ok(database.includes(accountId) && database.includes('2fa.enabled'))
    assert.ok(/"secret_cipher":"\\\\x[0-9a-f]{40,}"/.test(database), 'the sealed secret is in the dump')
    assert.ok(redis.includes(accountId), 'sessions are in the Redis dump')
    // Request logging is off, so the log may well be empty; whatever it holds is scanned.
    ctx.diagnostic(`scanned ${database.length} database, ${redis.length} Redis and ${log.length} log characters`)

    assertHoldsNone('the database', database, needles)
    assertHoldsNone('Redis', redis, needles)
    for (const [where, dump] of snapshots) assertHoldsNone(where, dump, needles)
    assertHoldsNone('the log', log, needles)
  })
})
