// No Docker engine here: check the Dockerfile and compose.yaml against the tree, and run the image's
// run stage (its COPY and RUN lines) in a temporary directory, then start the service from it.
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { parse } from 'yaml'
import { configSchema } from '../../src/config.js'
import { generateKeyMaterial } from '../../src/crypto/keyring.js'
import { startTestApp } from '../support/app.js'
import { freePort } from '../support/calls.js'
import { testRedisUrl } from '../support/redis.js'
import { collectOutput, createProcessBacking, stopProcess, untilReady } from '../support/service-process.js'

const dockerfile = readFileSync('Dockerfile', 'utf8')
// Instructions with their continuation lines joined.
const instructions = dockerfile
  .replace(/\\\n\s*/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'))
const stages = instructions.reduce<string[][]>((all, line) => {
  if (line.startsWith('FROM ')) all.push([])
  all.at(-1)?.push(line)
  return all
}, [])
const runStage = stages.at(-1) ?? []
const settings = new Set(Object.keys(configSchema.properties))

/** ENV lines of a stage as name → value (the `ENV A=1 B=2` form). */
/**
 * Under TEST_COVERAGE node hands NODE_V8_COVERAGE to every child, whatever env it is given; the
 * processes run from the temporary image tree would leave coverage of files that are gone when
 * the runner reads it (and fail the report). Their coverage goes into the tree instead.
 */
function outsideCoverage(dir: string): Record<string, string> {
  return process.env['NODE_V8_COVERAGE'] === undefined ? {} : { NODE_V8_COVERAGE: join(dir, '.coverage') }
}

function envOf(stage: string[]): Map<string, string> {
  const env = new Map<string, string>()
  for (const line of stage.filter((l) => l.startsWith('ENV ')))
    for (const pair of line.slice(4).trim().split(/\s+/)) {
      const [name, value] = pair.split('=')
      if (name !== undefined && value !== undefined) env.set(name, value)
    }
  return env
}

/** An exec-form (JSON array) argument list, e.g. of CMD. */
const execForm = (line: string | undefined): string[] => JSON.parse(line?.replace(/^\w+\s+/, '') ?? '[]') as string[]

describe('Dockerfile', () => {
  test('every COPY from the build context names something that exists and is not docker-ignored', () => {
    const ignored = readFileSync('.dockerignore', 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
    const sources = instructions
      .filter((l) => l.startsWith('COPY ') && !l.includes('--from='))
      .flatMap((l) => l.split(/\s+/).slice(1, -1))
    assert.ok(sources.length > 0)
    for (const source of sources) {
      assert.ok(existsSync(source), `${source} exists`)
      assert.ok(!ignored.includes(source), `${source} is not in .dockerignore`)
    }
  })

  test('both stages on a Node LTS line that is supported on 2026-11-30 (22 or 24)', () => {
    const bases = instructions.filter((l) => l.startsWith('FROM ')).map((l) => l.split(/\s+/)[1] ?? '')
    assert.equal(bases.length, 2)
    for (const base of bases) assert.match(base, /^node:(22|24)[.-]/, base)
  })

  test('production dependencies only, non-root, health check, the service as the command', () => {
    const install = readFileSync('scripts/install-runtime.sh', 'utf8')
    assert.match(install, /npm ci --omit=dev --omit=optional/)
    assert.ok(runStage.some((l) => l.startsWith('RUN ') && l.includes('scripts/install-runtime.sh')))
    assert.ok(runStage.some((l) => /^USER\s+(?!root)\w+/.test(l)))
    const health = runStage.find((l) => l.startsWith('HEALTHCHECK'))
    assert.match(health ?? '', /\/healthz/)
    // The service migrates (advisory-locked) after waiting for Postgres: no separate step before it.
    const cmd = execForm(
      runStage
        .filter((l) => l.startsWith('CMD '))
        .at(-1)
        ?.replace(/^CMD\s+/, 'CMD '),
    )
    assert.deepEqual(cmd, ['bin/latchkey'])
    assert.ok(!dockerfile.includes('migrate.js &&'))
  })

  test('what the run stage starts is what the build produces', () => {
    // `npm ci` ran `prepare` (the build) before the tests, as the build stage's `npm run build` does.
    for (const file of [
      'dist/src/main.js',
      'dist/scripts/migrate.js',
      'dist/scripts/rotate-secrets.js',
      'dist/account/index.html',
      'bin/latchkey',
    ])
      assert.ok(existsSync(file), `${file} exists`)
    assert.match(readFileSync('bin/latchkey', 'utf8'), /dist\/src\/main\.js/)
  })

  test('ENV names are settings; EXPOSE is PORT and METRICS_PORT', () => {
    const env = envOf(runStage)
    for (const name of env.keys()) assert.ok(settings.has(name), `${name} is a setting in src/config.ts`)
    const exposed = runStage
      .filter((l) => l.startsWith('EXPOSE '))
      .flatMap((l) => l.slice(7).trim().split(/\s+/))
      .sort()
    assert.deepEqual(exposed, [env.get('PORT'), env.get('METRICS_PORT')].sort())
  })
})

interface ComposeService {
  build?: string
  image?: string
  environment?: Record<string, string>
  ports?: string[]
  depends_on?: Record<string, unknown>
  healthcheck?: { test: string[] | string }
}

describe('compose.yaml', () => {
  const compose = parse(readFileSync('compose.yaml', 'utf8'), { merge: true }) as {
    services: Record<string, ComposeService>
  }
  const services = compose.services
  const latchkeys = Object.entries(services).filter(([, s]) => s.build !== undefined)

  test('Postgres, Redis and two latchkey instances built from this Dockerfile, on their own host ports', () => {
    assert.ok(Object.values(services).some((s) => s.image?.startsWith('postgres:')))
    assert.ok(Object.values(services).some((s) => s.image?.startsWith('redis:')))
    assert.equal(latchkeys.length, 2)
    for (const [, s] of latchkeys) assert.equal(s.build, '.')
    const hostPorts = latchkeys.flatMap(([, s]) => (s.ports ?? []).map((p) => p.split(':')[0]))
    assert.equal(new Set(hostPorts).size, hostPorts.length, 'no host port is used twice')
  })

  test('every environment name is a setting; container ports are PORT and METRICS_PORT', () => {
    for (const [name, s] of latchkeys) {
      const env = s.environment ?? {}
      for (const key of Object.keys(env)) assert.ok(settings.has(key), `${name}: ${key} is a setting`)
      const containerPorts = (s.ports ?? []).map((p) => p.split(':')[1]).sort()
      assert.deepEqual(containerPorts, [env['PORT'], env['METRICS_PORT']].sort(), name)
      assert.equal(env['NODE_ENV'], 'production')
      // The key comes from the operator's environment, never from the file.
      assert.match(env['SECRETS_KEY'] ?? '', /^\$\{SECRETS_KEY:\?/)
    }
  })

  test('backends are reached by their service names; depends_on names services', () => {
    for (const [name, s] of latchkeys) {
      const env = s.environment ?? {}
      const database = new URL(env['DATABASE_URL'] ?? '')
      const redis = new URL(env['REDIS_URL'] ?? '')
      assert.ok(database.hostname in services, `${name}: ${database.hostname} is a service`)
      assert.ok(redis.hostname in services, `${name}: ${redis.hostname} is a service`)
      for (const dependency of Object.keys(s.depends_on ?? {})) assert.ok(dependency in services)
    }
  })

  test('the health checks ask a path the service answers 200 on its PORT', async () => {
    const t = await startTestApp()
    try {
      for (const [name, s] of latchkeys) {
        const check = [s.healthcheck?.test ?? []].flat().join(' ')
        const url = /http:\/\/127\.0\.0\.1:(\d+)(\/\w+)/.exec(check)
        assert.ok(url !== null, `${name}: a health check URL in ${check}`)
        assert.equal(url[1], s.environment?.['PORT'])
        assert.equal((await t.app.inject({ method: 'GET', url: url[2] ?? '' })).statusCode, 200)
      }
    } finally {
      await t.close()
    }
  })
})

describe('the run stage, executed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-image-'))
  let child: ChildProcess | null = null
  let release: () => Promise<void> = async () => {}
  after(async () => {
    await stopProcess(child)
    await release()
    rmSync(dir, { recursive: true, force: true })
  })

  test('its COPY and RUN lines give a tree that serves on production settings without dev dependencies', async () => {
    for (const line of runStage) {
      if (line.startsWith('COPY ')) {
        const parts = line.split(/\s+/).slice(1)
        const fromBuild = parts[0]?.startsWith('--from=') === true
        const paths = fromBuild ? parts.slice(1) : parts
        const target = join(dir, paths.at(-1) ?? '.')
        for (const source of paths.slice(0, -1)) {
          // The build stage's /app/dist is this tree's dist (npm ci ran the same build).
          const from = fromBuild ? source.replace(/^\/app\//, '') : source
          const to = target.endsWith('/') || paths.length > 2 ? join(target, from.split('/').at(-1) ?? '') : target
          mkdirSync(dirname(to), { recursive: true })
          cpSync(from, to, { recursive: true })
        }
      } else if (line.startsWith('RUN ')) {
        // `npm cache clean` would empty this machine's shared cache; the rest runs as written.
        const commands = line
          .slice(4)
          .split('&&')
          .map((c) => c.trim())
          .filter((c) => !c.startsWith('npm cache clean'))
        for (const command of commands)
          execFileSync('sh', ['-c', command], {
            cwd: dir,
            stdio: 'ignore',
            env: { ...process.env, ...outsideCoverage(dir), npm_config_prefer_offline: 'true' },
          })
      }
    }
    const modules = join(dir, 'node_modules')
    for (const devOnly of ['prisma', 'typescript', '@biomejs', 'tsx', 'effect'])
      assert.ok(!existsSync(join(modules, devOnly)), `${devOnly} is not installed for production`)
    const megabytes = directoryBytes(modules) / 1024 / 1024
    assert.ok(megabytes < 120, `runtime node_modules is ${megabytes.toFixed(0)} MB`)

    const backing = await createProcessBacking()
    release = backing.release
    const port = await freePort()
    const metricsPort = await freePort()
    const [command, ...args] = execForm(runStage.filter((l) => l.startsWith('CMD ')).at(-1))
    const started = spawn(join(dir, command ?? ''), args, {
      cwd: dir,
      env: {
        PATH: process.env['PATH'],
        ...Object.fromEntries(envOf(runStage)),
        PORT: String(port),
        METRICS_PORT: String(metricsPort),
        HOST: '127.0.0.1',
        DATABASE_URL: backing.databaseUrl,
        REDIS_URL: testRedisUrl,
        REDIS_KEY_PREFIX: backing.redisPrefix,
        SECRETS_KEY: generateKeyMaterial(),
        BCRYPT_COST: '4',
        ...outsideCoverage(dir),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child = started
    const service = { child: started, output: collectOutput(started) }
    await untilReady(
      `http://127.0.0.1:${port}`,
      service,
      60_000,
      'the service built from the run stage to become ready',
    )
    const signUp = await fetch(`http://127.0.0.1:${port}/api/SignUp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        login: `image${randomBytes(4).toString('hex')}@example.com`,
        password: 'Tr0ub4dor&3-image',
      }),
    })
    assert.equal(signUp.status, 200, await signUp.text())
    assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).status, 200)
  })
})

function directoryBytes(path: string): number {
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.size
  return readdirSync(path).reduce((sum, entry) => sum + directoryBytes(join(path, entry)), 0)
}
