/**
 * The embedded default: no DATABASE_URL runs PGlite in DATA_DIR, no REDIS_URL the in-process store,
 * no SECRETS_KEY a key generated into DATA_DIR. Accounts survive a restart. In production the three
 * settings are mandatory instead.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config.js'
import { startTestApp, strongPassword, uniqueLogin } from '../support/app.js'
import { fails, freePort, list, ok, sleep, transports } from '../support/calls.js'

describe('embedded mode', () => {
  let dataDir: string
  const login = uniqueLogin('embedded')
  const password = strongPassword()
  let accountId: string
  let firstKey: string

  // SECRETS_KEY '' counts as unset, so the key is generated into DATA_DIR as in `npm start`.
  const env = () => ({ DATA_DIR: dataDir, SECRETS_KEY: '' })

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'latchkey-embedded-'))
  })
  after(async () => {
    await rm(dataDir, { recursive: true, force: true })
  })

  test('SignUp, SignIn and GetSession work on PGlite and the in-memory store', async () => {
    const t = await startTestApp(env(), { embedded: true })
    try {
      assert.equal(t.services.config.DATABASE_URL, undefined)
      assert.equal(t.services.config.REDIS_URL, undefined)
      assert.equal(t.services.config.SECRETS_KEY, undefined)

      const created = await ok(t, 'api', 'SignUp', { login, password })
      accountId = String(created['accountId'])
      for (const transport of transports) {
        const signedIn = await ok(t, transport, 'SignIn', { login: login.toUpperCase(), password })
        const session = String(signedIn['session'])
        assert.match(session, /^lks_/)
        const me = await ok(t, transport, 'GetSession', {}, { bearer: session })
        assert.equal(me['accountId'], accountId)
        assert.equal(me['authType'], 'session')
        assert.equal(
          list((await ok(t, transport, 'GetSessions', {}, { bearer: session }))['sessions']).filter(
            (s) => s['current'] === true,
          ).length,
          1,
        )
      }
      await fails(t, 'api', 'SignIn', 'INVALID_CREDENTIALS', { login, password: `${password}x` })
      await fails(t, 'api', 'SignUp', 'CONFLICT', { login, password: strongPassword() })

      const ready = await t.app.inject({ method: 'GET', url: '/readyz' })
      assert.equal(ready.statusCode, 200)
      assert.deepEqual(JSON.parse(ready.body), { status: 'ready', postgres: true, redis: true })

      assert.ok((await stat(join(dataDir, 'pglite'))).isDirectory(), 'PGlite keeps its data under DATA_DIR')
      firstKey = (await readFile(join(dataDir, 'secrets.key'), 'utf8')).trim()
      assert.ok(firstKey.length > 0, 'a secrets key was generated into DATA_DIR')
    } finally {
      await t.close()
    }
  })

  test('the account survives a restart on the same DATA_DIR (and so does the generated key)', async () => {
    assert.ok(accountId !== undefined, 'the first test created the account')
    const t = await startTestApp(env(), { embedded: true })
    try {
      const session = String((await ok(t, 'api', 'SignIn', { login, password }))['session'])
      const me = await ok(t, 'rpc', 'GetSession', {}, { bearer: session })
      assert.equal(me['accountId'], accountId)
      await fails(t, 'api', 'SignUp', 'CONFLICT', { login, password: strongPassword() })
      const events = list((await ok(t, 'api', 'GetSigninHistory', { limit: 100 }, { bearer: session }))['events'])
      assert.ok(
        events.filter((e) => e['type'] === 'signin.success').length >= 3,
        'the audit trail from before the restart is kept',
      )
      assert.equal(
        (await readFile(join(dataDir, 'secrets.key'), 'utf8')).trim(),
        firstKey,
        'the generated key is reused, not replaced',
      )
    } finally {
      await t.close()
    }
  })

  test('`src/main.ts` with nothing configured says in one start-up line which backends it uses and where the data lives', async () => {
    assert.ok(accountId !== undefined, 'the data dir is initialised')
    const port = await freePort()
    const childEnv: NodeJS.ProcessEnv = {
      ...process.env,
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      NODE_ENV: 'development',
      METRICS_PORT: '0',
    }
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'SECRETS_KEY']) delete childEnv[name]
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    try {
      const deadline = Date.now() + 60_000
      while (!output.includes('latchkey listening') && child.exitCode === null && Date.now() < deadline) await sleep(50)
      const line = output.split('\n').find((l) => l.includes('latchkey listening'))
      assert.ok(line !== undefined, `no start-up line: ${output}`)
      assert.match(line, /PGlite/i)
      assert.ok(
        line.includes(join(dataDir, 'pglite')) || line.includes(dataDir),
        `the line does not say where the data lives: ${line}`,
      )
      assert.match(line, /embedded/i)
      const health = await fetch(`http://127.0.0.1:${port}/api/SignIn`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ login, password }),
      })
      assert.equal(health.status, 200)
    } finally {
      const exited = once(child, 'exit')
      if (child.exitCode === null) child.kill('SIGTERM')
      await exited
    }
  })
})

describe('production needs real backends', () => {
  test('NODE_ENV=production without DATABASE_URL, REDIS_URL and SECRETS_KEY: loadConfig throws naming all three', () => {
    assert.throws(
      () => loadConfig({ NODE_ENV: 'production' }),
      (error: unknown) => {
        assert.ok(error instanceof Error)
        for (const name of ['DATABASE_URL', 'REDIS_URL', 'SECRETS_KEY'])
          assert.ok(error.message.includes(name), `${name} is not named: ${error.message}`)
        assert.match(error.message, /production/)
        return true
      },
    )
  })

  test('only the missing ones are named; empty counts as missing; all three set is fine', () => {
    const full = {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://db/latchkey',
      REDIS_URL: 'redis://cache:6379',
      SECRETS_KEY: 'a2V5',
    }
    assert.throws(
      () => loadConfig({ ...full, REDIS_URL: '' }),
      (error: unknown) => {
        assert.ok(error instanceof Error)
        assert.ok(error.message.includes('REDIS_URL'))
        assert.ok(!error.message.includes('DATABASE_URL') && !error.message.includes('SECRETS_KEY'), error.message)
        return true
      },
    )
    assert.throws(() => loadConfig({ ...full, SECRETS_KEY: undefined }), /SECRETS_KEY/)
    const config = loadConfig(full)
    assert.equal(config.NODE_ENV, 'production')
    assert.equal(config.DATABASE_URL, full.DATABASE_URL)
    // Outside production the same gaps mean the embedded defaults.
    assert.equal(loadConfig({ NODE_ENV: 'development' }).DATABASE_URL, undefined)
  })

  test('the service refuses to start in production without them, with a clear message and a failing exit code', async () => {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production', PORT: '3999', METRICS_PORT: '0' }
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'SECRETS_KEY']) delete childEnv[name]
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    const [code] = (await once(child, 'exit')) as [number | null]
    assert.notEqual(code, 0)
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'SECRETS_KEY'])
      assert.ok(stderr.includes(name), `${name} not named in: ${stderr}`)
  })
})
