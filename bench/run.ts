/**
 * `npm run bench`: the service's throughput and latency as ratios against ceilings measured in the
 * same run on the same machine (issue 6).
 *
 *   npm run bench                       full run (~4.5 min): build, baselines, scenarios, targets
 *   npm run bench -- --smoke            CI: ~1 s per scenario, 1 run, no warm-up, no targets
 *   npm run bench -- --url http://h:p   against a running instance (server CPU/RSS: n/a)
 *   options: --duration S --runs N --warmup S --connections N --no-build --out FILE
 *            --only TEXT (scenarios whose name contains TEXT; baselines always run)
 *            --cpu-prof (the service runs with node --cpu-prof; profiles in bench/results/profiles/)
 *            --no-baselines (no Baseline A/B and no ratios: quicker profiling runs)
 *            --server-pid PID (with --url: the instance's local pid, for its CPU and RSS)
 *            --node-args "FLAGS" (extra node flags for the service, e.g. "--max-old-space-size=96";
 *            environment such as MALLOC_ARENA_MAX passes through to it)
 *
 * Phases: build → Baseline B (bcrypt) → fresh database + Redis prefix → the service as a child
 * (`node dist/src/main.js`, NODE_ENV=production, LOG_LEVEL=info, sign-in limits raised) → seed
 * through the API → Baseline A (bare Fastify) → scenarios → the service again with default limits
 * for the rate-limit scenario → embedded start ×2 → cleanup. Load comes from autocannon in a
 * separate process (load.ts), one continuous load per scenario cut into warm-up + runs.
 */
import { createTestDatabase } from '../test/support/postgres.js'
import { deleteKeysWithPrefix } from '../test/support/redis.js'
import { spawn, spawnSync, fork, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  freePort,
  median,
  processMemoryMB,
  waitFor200,
  waitForIdle,
  type FixedRequest,
  type LoadMessage,
  type LoadPlan,
  type LoadResult,
  type LoadSpec,
  type TwoFactorAccount,
} from './lib.js'
import { createToken, enableTwoFactor, mapLimit, newAccount, preBlock, signIn, signUp, type Account } from './seed.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const benchStarted = performance.now()

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  smoke: boolean
  url: string | null
  duration: number
  runs: number
  warmup: number
  connections: number
  build: boolean
  out: string
  /** Only the scenarios whose name contains this (baselines always run). */
  only: string | null
  /** Start the service with --cpu-prof, profiles into this folder. */
  cpuProf: string | null
  /** Extra node flags for the service (e.g. "--max-old-space-size=96"), split on spaces. */
  nodeArgs: string[]
  /** With --url: the pid of that instance if it runs on this machine (enables CPU and RSS). */
  serverPid: number | null
  /** false (--no-baselines, for profiling): no Baseline A/B, no ratios. */
  baselines: boolean
}

function parseOptions(argv: string[]): Options {
  const smoke = argv.includes('--smoke')
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(name)
    if (i === -1) return undefined
    const v = argv[i + 1]
    if (v === undefined || (v.startsWith('--') && name !== '--node-args')) throw new Error(`${name} needs a value`)
    return v
  }
  const number = (name: string, fallback: number): number => {
    const v = value(name)
    if (v === undefined) return fallback
    const n = Number(v)
    if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number`)
    return n
  }
  const flags = new Set(['--smoke', '--no-build', '--cpu-prof', '--no-baselines'])
  const withValue = new Set([
    '--url',
    '--duration',
    '--runs',
    '--warmup',
    '--connections',
    '--out',
    '--only',
    '--server-pid',
    '--node-args',
  ])
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? ''
    if (withValue.has(arg)) i++
    else if (!flags.has(arg)) throw new Error(`unknown option ${arg}`)
  }
  const url = value('--url')?.replace(/\/+$/, '') ?? null
  return {
    smoke,
    url,
    duration: number('--duration', smoke ? 1 : 7),
    runs: Math.max(1, Math.round(number('--runs', smoke ? 1 : 3))),
    warmup: number('--warmup', smoke ? 0 : 2),
    connections: Math.max(1, Math.round(number('--connections', 50))),
    build: !argv.includes('--no-build'),
    only: value('--only') ?? null,
    baselines: !argv.includes('--no-baselines'),
    nodeArgs: (value('--node-args') ?? '').split(' ').filter((a) => a !== ''),
    serverPid: value('--server-pid') === undefined ? null : number('--server-pid', 0),
    cpuProf: argv.includes('--cpu-prof') ? path.join(root, 'bench/results/profiles') : null,
    // Only a full run of everything replaces latest.json.
    out:
      value('--out') ??
      (smoke || argv.includes('--only') || argv.includes('--no-baselines')
        ? path.join(os.tmpdir(), 'latchkey-bench-partial.json')
        : path.join(root, 'bench/results/latest.json')),
  }
}

const options = parseOptions(process.argv.slice(2))
// The smoke run checks that everything runs, not how fast: cheap bcrypt keeps it to seconds.
const bcryptCost = process.env['BCRYPT_COST'] ?? (options.smoke ? '4' : '12')
const threadPool = process.env['UV_THREADPOOL_SIZE'] ?? '4'
const redisUrl = process.env['BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6379'
const workDir = mkdtempSync(path.join(os.tmpdir(), 'latchkey-bench-'))

function progress(message: string): void {
  const seconds = ((performance.now() - benchStarted) / 1000).toFixed(0).padStart(4)
  process.stderr.write(`[bench ${seconds}s] ${message}\n`)
}

// ---------------------------------------------------------------------------------------------
// Child processes

interface Child {
  proc: ChildProcess
  pid: number
  exited: () => boolean
  exit: Promise<void>
  logFile: string
}

/** Environment for children: ours minus anything that would load a TypeScript loader into them. */
function childEnv(extra: Record<string, string>, drop: string[] = []): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env }
  delete env['NODE_OPTIONS']
  for (const key of drop) delete env[key]
  return { ...env, ...extra }
}

function start(name: string, command: string, args: string[], env: NodeJS.ProcessEnv, detached = false): Child {
  const logFile = path.join(workDir, `${name}.log`)
  const fd = openSync(logFile, 'a')
  const proc = spawn(command, args, { cwd: root, env, stdio: ['ignore', fd, fd], detached })
  closeSync(fd)
  if (proc.pid === undefined) throw new Error(`could not start ${name}`)
  let done = false
  const exit = new Promise<void>((resolve) => {
    proc.once('exit', () => {
      done = true
      resolve()
    })
    proc.once('error', () => {
      done = true
      resolve()
    })
  })
  return { proc, pid: proc.pid, exited: () => done, exit, logFile }
}

/** SIGTERM (to the process group when detached), then SIGKILL after `graceMs`. */
async function stop(child: Child, group = false, graceMs = 10_000): Promise<void> {
  if (child.exited()) return
  const signal = (s: NodeJS.Signals) => {
    try {
      if (group) process.kill(-child.pid, s)
      else child.proc.kill(s)
    } catch {
      // already gone
    }
  }
  signal('SIGTERM')
  let timer: NodeJS.Timeout | undefined
  const killed = await Promise.race([
    child.exit.then(() => false),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs))),
  ])
  clearTimeout(timer)
  if (killed) {
    signal('SIGKILL')
    await child.exit
  }
}

const running = new Set<{ child: Child; group: boolean }>()
/** Cleanups still owed (the database, the Redis keys), run once whatever happens. */
const cleanups: (() => Promise<void>)[] = []
async function stopAll(): Promise<void> {
  await Promise.all([...running].map(({ child, group }) => stop(child, group)))
  running.clear()
  if (cleanups.length > 0) progress('cleanup: dropping the database and the Redis keys')
  for (const cleanup of cleanups.splice(0))
    await cleanup().catch((error: unknown) => progress(`cleanup failed: ${String(error)}`))
}

function logLines(file: string): number {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '').length
  } catch {
    return 0
  }
}

// ---------------------------------------------------------------------------------------------
// Backing stores (a fresh database and a Redis prefix, both removed at the end)

interface Backing {
  databaseUrl: string
  redisPrefix: string
  secretsKey: string
  release(): Promise<void>
}

async function createBacking(): Promise<Backing> {
  const database = await createTestDatabase({ stem: 'latchkey_bench', durable: true })
  const redisPrefix = `bench:${randomBytes(6).toString('hex')}:`
  return {
    databaseUrl: database.url,
    redisPrefix,
    secretsKey: randomBytes(32).toString('base64'),
    async release() {
      await deleteKeysWithPrefix(redisUrl, redisPrefix)
      await database.drop()
    },
  }
}

// ---------------------------------------------------------------------------------------------
// The service, the baselines, the load generator

interface Target {
  baseUrl: string
  /** null: not a process of ours (--url). */
  child: Child | null
  /** For CPU and RSS: our child's, or --server-pid; null: n/a. */
  pid: number | null
}

const huge = '1000000000'

async function startService(backing: Backing, name: string, limits: 'raised' | 'default'): Promise<Target> {
  const port = await freePort()
  const env = childEnv(
    {
      NODE_ENV: 'production',
      DATABASE_URL: backing.databaseUrl,
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: backing.redisPrefix,
      SECRETS_KEY: backing.secretsKey,
      LOG_LEVEL: 'info',
      PORT: String(port),
      HOST: '127.0.0.1',
      BCRYPT_COST: bcryptCost,
      UV_THREADPOOL_SIZE: threadPool,
      DATA_DIR: path.join(workDir, 'data'),
      // Load comes from one address: the per-IP call limits would measure themselves, not the service.
      SIGNUP_MAX_PER_IP: huge,
      ANONYMOUS_CALLS_MAX_PER_IP: huge,
      ...(limits === 'raised'
        ? { SIGNIN_MAX_PER_LOGIN_IP: huge, SIGNIN_MAX_PER_IP: huge, SIGNIN_MAX_PER_LOGIN: huge }
        : {}),
    },
    limits === 'default' ? ['SIGNIN_MAX_PER_LOGIN_IP', 'SIGNIN_MAX_PER_IP', 'SIGNIN_MAX_PER_LOGIN'] : [],
  )
  const profile =
    options.cpuProf === null
      ? []
      : ['--cpu-prof', `--cpu-prof-dir=${options.cpuProf}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`]
  // Through the same launcher as `npm start` and the Dockerfile, so the production memory settings apply.
  const child = start(name, path.join(root, 'bin/latchkey'), [], {
    ...env,
    LATCHKEY_NODE_ARGS: [...profile, ...options.nodeArgs].join(' '),
  })
  running.add({ child, group: false })
  const baseUrl = `http://127.0.0.1:${port}`
  try {
    await waitFor200(`${baseUrl}/readyz`, 60_000, () => !child.exited())
  } catch (error) {
    throw new Error(
      `${error instanceof Error ? error.message : String(error)}\n--- ${child.logFile}:\n${readFileSync(child.logFile, 'utf8').slice(-3000)}`,
    )
  }
  return { baseUrl, child, pid: child.pid }
}

async function stopTarget(target: Target, graceMs?: number): Promise<void> {
  if (target.child === null) return
  await stop(target.child, false, graceMs)
  for (const entry of running) if (entry.child === target.child) running.delete(entry)
}

async function runLoad(target: Target, plan: LoadPlan): Promise<LoadResult> {
  const spec: LoadSpec = {
    baseUrl: target.baseUrl,
    connections: options.connections,
    warmupSeconds: options.warmup,
    runSeconds: options.duration,
    runs: options.runs,
    // bcrypt-bound scenarios queue 50 requests behind a few compares each: seconds, not ms.
    timeoutSeconds: 60,
    serverPid: target.pid,
    plan,
  }
  const child = fork(path.join(root, 'bench/load.ts'), [], {
    cwd: root,
    execArgv: ['--import', 'tsx'],
    env: childEnv({}),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const answer = await new Promise<LoadMessage>((resolve, reject) => {
    child.once('message', (message) => resolve(message as LoadMessage))
    child.once('exit', (code) => reject(new Error(`load generator exited (${code}) without an answer`)))
    child.send(spec)
  })
  await new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())))
  if (!answer.ok) throw new Error(`load generator failed: ${answer.error}`)
  return answer.result
}

interface BcryptBaseline {
  cost: number
  threads: number
  runs: { seconds: number; compares: number; rate: number; foreignCpuShare: number | null }[]
}

function baselineBcrypt(): BcryptBaseline {
  // Windows long enough for tens of compares even at cost 12 (~9/s on 2 cores).
  const args = options.smoke
    ? ['0', '1', '1']
    : ['1', String(options.runs), String(Math.max(4, Math.round(options.duration * 0.6)))]
  const result = spawnSync(process.execPath, ['bench/baseline-bcrypt.mjs', ...args], {
    cwd: root,
    env: childEnv({ BCRYPT_COST: bcryptCost, UV_THREADPOOL_SIZE: threadPool }),
    encoding: 'utf8',
  })
  if (result.status !== 0) throw new Error(`baseline-bcrypt failed: ${result.stderr}`)
  return JSON.parse(result.stdout) as BcryptBaseline
}

async function startBaselineFastify(): Promise<Target> {
  const port = await freePort()
  const child = start(
    'baseline-fastify',
    process.execPath,
    ['bench/baseline-fastify.mjs'],
    childEnv({ PORT: String(port) }),
  )
  running.add({ child, group: false })
  const baseUrl = `http://127.0.0.1:${port}`
  await waitFor200(`${baseUrl}/readyz`, 20_000, () => !child.exited())
  return { baseUrl, child, pid: child.pid }
}

/** `npm start` with no DATABASE_URL / REDIS_URL (embedded PGlite + in-process store) until /readyz answers 200. */
async function embeddedStart(dataDir: string, label: string): Promise<{ ms: number; note: string | null }> {
  const port = await freePort()
  const env = childEnv({ DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' }, [
    'DATABASE_URL',
    'REDIS_URL',
    'REDIS_KEY_PREFIX',
    'SECRETS_KEY',
    'NODE_ENV',
  ])
  const started = performance.now()
  // Detached: npm runs node through a shell; the whole group is stopped afterwards.
  const child = start(`embedded-${label}`, 'npm', ['start', '--silent'], env, true)
  running.add({ child, group: true })
  try {
    await waitFor200(`http://127.0.0.1:${port}/readyz`, 60_000, () => !child.exited())
    return { ms: performance.now() - started, note: null }
  } catch (error) {
    return { ms: Number.NaN, note: `${error instanceof Error ? error.message : String(error)} (log: ${child.logFile})` }
  } finally {
    await stop(child, true)
    for (const entry of running) if (entry.child === child) running.delete(entry)
  }
}

// ---------------------------------------------------------------------------------------------
// Scenarios and their summaries

type BaselineName = 'A' | 'B'

interface Row {
  name: string
  unit: 'req/s' | 'calls/s' | 'pairs/s' | 'compares/s'
  baseline: BaselineName | null
  rate: { median: number; min: number; max: number } | null
  p50Ms: number | null
  p99Ms: number | null
  ratio: number | null
  cpuMsPerRequest: number | null
  /** CPU of the local Redis and Postgres servers per request (ms). */
  backingCpuMsPerRequest: number | null
  peakRssMB: number | null
  /** Highest share of the machine's CPU used by other processes during a run (noise). */
  foreignCpuMax: number | null
  requests: number
  errors: number
  statuses: Record<string, number>
  notes: string[]
}

function maxOrNull(values: (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null)
  return known.length === 0 ? null : Math.max(...known)
}

function summarize(
  name: string,
  unit: Row['unit'],
  baseline: BaselineName | null,
  result: LoadResult,
  notes: string[] = [],
): Row {
  const runs = result.runs
  const rates = runs.map((w) => w.units / w.seconds)
  const cpu = runs.flatMap((w) => (w.serverCpuMs === null || w.responses === 0 ? [] : [w.serverCpuMs / w.responses]))
  const statuses: Record<string, number> = {}
  for (const w of runs) for (const [k, v] of Object.entries(w.statuses)) statuses[k] = (statuses[k] ?? 0) + v
  const med = median(rates)
  return {
    name,
    unit,
    baseline,
    rate: med === null ? null : { median: med, min: Math.min(...rates), max: Math.max(...rates) },
    p50Ms: median(runs.flatMap((w) => (w.p50 === null ? [] : [w.p50]))),
    p99Ms: median(runs.flatMap((w) => (w.p99 === null ? [] : [w.p99]))),
    ratio: null,
    cpuMsPerRequest: median(cpu),
    backingCpuMsPerRequest: median(
      runs.flatMap((w) => (w.backingCpuMs === null || w.responses === 0 ? [] : [w.backingCpuMs / w.responses])),
    ),
    peakRssMB: result.peakRssMB,
    foreignCpuMax: maxOrNull(runs.map((w) => w.foreignCpuShare)),
    requests: runs.reduce((n, w) => n + w.responses, 0),
    errors: runs.reduce((n, w) => n + w.errors, 0),
    statuses,
    notes: [...notes, ...result.notes],
  }
}

const json = { 'content-type': 'application/json' }
const bearer = (credential: string) => ({ ...json, authorization: `Bearer ${credential}` })
const rpcGetSession = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'GetSession' })
const rpcBatch = JSON.stringify(
  Array.from({ length: 10 }, (_, i) => ({ jsonrpc: '2.0', id: i + 1, method: 'GetSession' })),
)

function fixed(
  requests: FixedRequest[],
  check: {
    status?: number[]
    includes: string[]
    excludes?: string[]
    units?: number
    collect?: boolean
    share?: boolean
  },
): LoadPlan {
  return {
    kind: 'fixed',
    requests,
    expectStatus: check.status ?? [200],
    bodyIncludesAny: check.includes,
    bodyExcludes: check.excludes ?? [],
    unitsPerRequest: check.units ?? 1,
    collectSessions: check.collect ?? false,
    shareCursor: check.share ?? false,
  }
}

// ---------------------------------------------------------------------------------------------
// Formatting

const fmt = (n: number | null, digits = 0) =>
  n === null || Number.isNaN(n)
    ? 'n/a'
    : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
const rateDigits = (n: number) => (n < 100 ? 1 : 0)

/** A Markdown table; `numeric` columns are right-aligned. */
function table(header: string[], rows: string[][], numeric: (i: number) => boolean = (i) => i > 0): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (numeric(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join(' | ')} |`
  const rule = `|${widths.map((w, i) => (numeric(i) ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`
  return [line(header), rule, ...rows.map(line)].join('\n')
}

// ---------------------------------------------------------------------------------------------
// Main

interface TargetCheck {
  target: string
  measured: string
  pass: boolean | null
}

async function main(): Promise<void> {
  progress(`options: ${JSON.stringify({ ...options, bcryptCost, threadPool })}`)
  const rows: Row[] = []
  const notes: string[] = []
  const peakRss: { process: string; mb: number | null }[] = []
  const seededAt: Record<string, number> = {}

  const distMain = path.join(root, 'dist/src/main.js')
  if (options.build) {
    progress('npm run build')
    const built = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, encoding: 'utf8', env: childEnv({}) })
    if (built.status !== 0) throw new Error(`npm run build failed:\n${built.stdout}\n${built.stderr}`)
  }
  statSync(distMain)

  // Baseline B first, on a quiet machine: the ceiling for SignIn.
  if (options.baselines) progress(`Baseline B: bcrypt compares at cost ${bcryptCost}, ${threadPool} threads`)
  const bcrypt: BcryptBaseline = options.baselines
    ? baselineBcrypt()
    : { cost: Number(bcryptCost), threads: Number(threadPool), runs: [] }
  const bRates = bcrypt.runs.map((r) => r.rate)
  // Without baselines (profiling), size the 2FA pool for the reference machine's ~9 compares/s at cost 12.
  const bMedian = median(bRates) ?? 0
  const bForSizing = options.baselines ? bMedian : (9 * 2 ** 12) / 2 ** Number(bcryptCost)
  if (options.baselines)
    rows.push({
      name: `Baseline B: bcrypt compare (cost ${bcrypt.cost}, ${bcrypt.threads} threads)`,
      unit: 'compares/s',
      baseline: null,
      rate: { median: bMedian, min: Math.min(...bRates), max: Math.max(...bRates) },
      p50Ms: null,
      p99Ms: null,
      ratio: null,
      cpuMsPerRequest: null,
      backingCpuMsPerRequest: null,
      peakRssMB: null,
      foreignCpuMax: maxOrNull(bcrypt.runs.map((r) => r.foreignCpuShare)),
      requests: bcrypt.runs.reduce((n, r) => n + r.compares, 0),
      errors: 0,
      statuses: {},
      notes: [],
    })

  const backing = options.url === null ? await createBacking() : null
  if (backing !== null) cleanups.push(() => backing.release())
  let succeeded = false
  try {
    // ---- the service, seeded through its API
    let service: Target
    if (backing === null) {
      service = { baseUrl: options.url ?? '', child: null, pid: options.serverPid }
      await waitFor200(`${service.baseUrl}/readyz`, 10_000)
      progress(`using the running instance at ${service.baseUrl}`)
    } else {
      progress('starting the service (production build, LOG_LEVEL=info, sign-in limits raised)')
      service = await startService(backing, 'service', 'raised')
    }
    const base = service.baseUrl
    const selected = (name: string) => options.only === null || name.toLowerCase().includes(options.only.toLowerCase())
    const seedConcurrency = Number(threadPool) * 2

    // The 2FA pool: the server takes the previous, current and next step, each once, so an account
    // can complete a TOTP sign-in 2–3 times at once (Enable2FA spent one step), then once per 30 s
    // step; the pool must outlast the whole 2FA scenario at bcrypt speed, every connection holding one.
    const scenarioSeconds = options.warmup + options.runs * options.duration
    const needed = Math.ceil((1.25 * (bForSizing * scenarioSeconds + options.connections)) / 2.5)
    const poolSize =
      !selected('SignIn (no 2FA)') && !selected('SignIn + Verify2FACode (TOTP)')
        ? 0
        : Math.min(options.smoke ? options.connections + 10 : 400, Math.max(options.connections + 10, needed))
    const sessionAccounts = Array.from({ length: options.smoke ? 2 : 4 }, () => newAccount('sess'))
    const pool = Array.from({ length: poolSize }, () => newAccount('pool'))
    progress(
      `seeding: ${sessionAccounts.length} accounts with sessions and PATs, a pool of ${poolSize} accounts for SignIn and 2FA`,
    )
    let t = performance.now()
    await signUp(base, [...sessionAccounts, ...pool], seedConcurrency)
    seededAt['SignUp'] = performance.now() - t
    t = performance.now()
    const sessionPairs = await mapLimit(
      sessionAccounts.flatMap((a) => [a, a]),
      seedConcurrency,
      async (a) => ({ account: a, session: await signIn(base, a) }),
    )
    const sessions = sessionPairs.map((s) => s.session)
    const pats = await mapLimit(sessionAccounts, seedConcurrency, (a, i) =>
      createToken(base, a, sessionPairs[i * 2]?.session ?? ''),
    )
    seededAt['SignIn + CreateToken'] = performance.now() - t

    // ---- Baseline A with exactly the requests of "GetSession, session (/api)"
    const sessionApi = sessions.map(
      (s): FixedRequest => ({ method: 'POST', path: '/api/GetSession', headers: bearer(s), body: '{}' }),
    )
    let aMedian = 0
    if (options.baselines) {
      progress('Baseline A: bare Fastify route')
      const fastify = await startBaselineFastify()
      const aResult = await runLoad(fastify, fixed(sessionApi, { includes: ['"ok"'] }))
      await stopTarget(fastify)
      const rowA = summarize('Baseline A: bare Fastify 5 route, small JSON', 'req/s', null, aResult)
      rows.push(rowA)
      aMedian = rowA.rate?.median ?? 0
    }

    const scenario = async (
      name: string,
      unit: Row['unit'],
      baseline: BaselineName,
      plan: () => LoadPlan,
      target: Target = service,
    ): Promise<{ row: Row; result: LoadResult } | null> => {
      if (!selected(name)) return null
      progress(`scenario: ${name}`)
      const linesBefore = target.child === null ? 0 : logLines(target.child.logFile)
      const result = await runLoad(target, plan())
      const logged = target.child === null ? 0 : logLines(target.child.logFile) - linesBefore
      const row = summarize(name, unit, baseline, result, logged > 0 ? [`${logged} log lines written`] : [])
      const reference = baseline === 'A' ? aMedian : bMedian
      row.ratio = row.rate === null || reference === 0 ? null : row.rate.median / reference
      rows.push(row)
      return { row, result }
    }

    const gsSession = await scenario('GetSession, session (/api)', 'req/s', 'A', () =>
      fixed(sessionApi, { includes: ['"authType":"session"'] }),
    )
    const gsPat = await scenario('GetSession, PAT + apiMethod (/api)', 'req/s', 'A', () =>
      fixed(
        pats.map(
          (p): FixedRequest => ({
            method: 'POST',
            path: '/api/GetSession',
            headers: bearer(p),
            body: JSON.stringify({ apiMethod: 'environment.control.start' }),
          }),
        ),
        { includes: ['"allowed":true'] },
      ),
    )
    const gsRpc = await scenario('GetSession, session (/rpc)', 'req/s', 'A', () =>
      fixed(
        sessions.map((s): FixedRequest => ({ method: 'POST', path: '/rpc', headers: bearer(s), body: rpcGetSession })),
        { includes: ['"result"'], excludes: ['"error"'] },
      ),
    )
    const batch = await scenario('JSON-RPC batch of 10 GetSession (/rpc)', 'calls/s', 'A', () =>
      fixed(
        sessions.map((s): FixedRequest => ({ method: 'POST', path: '/rpc', headers: bearer(s), body: rpcBatch })),
        { includes: ['"result"'], excludes: ['"error"'], units: 10 },
      ),
    )

    // SignIn over the pool (every login gets its turn early), keeping one session per login for the 2FA enrolment.
    const signInResult = await scenario('SignIn (no 2FA)', 'req/s', 'B', () =>
      fixed(
        pool.map(
          (a): FixedRequest => ({
            method: 'POST',
            path: '/api/SignIn',
            headers: json,
            body: JSON.stringify({ login: a.login, password: a.password }),
            login: a.login,
          }),
        ),
        { includes: ['"session"'], collect: true, share: true },
      ),
    )

    const twoFactorName = 'SignIn + Verify2FACode (TOTP)'
    if (selected(twoFactorName)) {
      // No need to wait for the abandoned sign-ins to drain: the enrolment measures nothing.
      progress(`enrolling ${pool.length} pool accounts in 2FA (Get2FAConfig + Enable2FA)`)
      t = performance.now()
      const collected = signInResult?.result.sessions ?? {}
      const twoFactorPool: TwoFactorAccount[] = await mapLimit(pool, seedConcurrency, async (a: Account) => {
        const session = collected[a.login] ?? (await signIn(base, a))
        return enableTwoFactor(base, a, session)
      })
      seededAt['2FA enrolment'] = performance.now() - t
      await scenario(twoFactorName, 'pairs/s', 'B', () => ({ kind: 'two-factor', accounts: twoFactorPool }))
      if (service.child === null) await waitForIdle(service.pid, 15_000)
    }

    if (service.pid !== null) {
      peakRss.push({
        process: service.child === null ? 'service' : 'service (raised sign-in limits)',
        mb: processMemoryMB(service.pid, 'VmHWM'),
      })
    }

    // ---- rate limiting, with the default limits
    const rateLimitName = 'SignIn failures under rate limiting'
    let limited: Target = service
    if (backing !== null && selected(rateLimitName)) {
      // Its graceful stop would wait for the bcrypt work the load generator abandoned: no need.
      await stopTarget(service, options.cpuProf === null ? 500 : 10_000)
      progress('restarting the service with the default sign-in limits')
      limited = await startService(backing, 'service-default-limits', 'default')
    }
    const victim = `nobody-${randomBytes(4).toString('hex')}@bench.example`
    const failures = selected(rateLimitName) ? await preBlock(limited.baseUrl, victim, 50) : null
    const rl = await scenario(
      rateLimitName,
      'req/s',
      'A',
      () =>
        fixed(
          [
            {
              method: 'POST',
              path: '/api/SignIn',
              headers: json,
              body: JSON.stringify({ login: victim, password: 'definitely-wrong-password' }),
            },
          ],
          {
            status: [429, 401],
            includes: ['RATE_LIMITED', 'INVALID_CREDENTIALS'],
          },
        ),
      limited,
    )
    if (rl !== null) {
      const limitNote =
        failures === null
          ? 'the limit was not reached after 50 failures: this measures plain failures'
          : `blocked after ${failures} failures (per login+IP limit)`
      rl.row.notes.unshift(
        `${limitNote}; ${fmt(rl.row.statuses['429'] ?? 0)} of ${fmt(rl.row.requests)} answers were 429 RATE_LIMITED (expected, not errors)`,
      )
      if (limited !== service && limited.pid !== null)
        peakRss.push({ process: 'service (default limits)', mb: processMemoryMB(limited.pid, 'VmHWM') })
    }
    await stopTarget(limited)
    if (limited !== service) await stopTarget(service)

    // ---- embedded start, twice: first start (creates PGlite, migrates) and restart
    const embeddedName = 'embedded start'
    let first = { ms: Number.NaN, note: null as string | null }
    let again = first
    if (selected(embeddedName)) {
      progress('embedded start (npm start, no DATABASE_URL / REDIS_URL): first start and restart')
      const embeddedDir = path.join(workDir, 'embedded')
      mkdirSync(embeddedDir, { recursive: true })
      first = await embeddedStart(embeddedDir, 'first')
      again = await embeddedStart(embeddedDir, 'restart')
      for (const e of [first, again]) if (e.note !== null) notes.push(e.note)
    }

    // ---- targets
    const serverPeak = peakRss.length === 0 ? null : Math.max(...peakRss.map((p) => p.mb ?? 0))
    const judge = (pass: boolean) => (options.smoke ? null : pass)
    const rate = (r: Row) => r.rate?.median ?? 0
    const skipped = (target: string): TargetCheck => ({ target, measured: 'not run', pass: null })
    const rowTarget = (
      target: string,
      found: { row: Row } | null,
      check: (row: Row) => { measured: string; pass: boolean },
    ): TargetCheck => {
      if (found === null) return skipped(target)
      const { measured, pass } = check(found.row)
      return { target, measured, pass: judge(pass) }
    }
    const single = gsRpc === null ? 0 : rate(gsRpc.row)
    const targets: TargetCheck[] = [
      rowTarget('SignIn (no 2FA) >= 0.9 x Baseline B', signInResult, (r) => ({
        measured: `${fmt(rate(r), 1)} req/s = ${fmt(r.ratio, 2)} x B (${fmt(bMedian, 1)}/s)`,
        pass: (r.ratio ?? 0) >= 0.9,
      })),
      rowTarget('GetSession, session >= 0.6 x Baseline A, p99 <= 15 ms', gsSession, (r) => ({
        measured: `${fmt(rate(r))} req/s = ${fmt(r.ratio, 2)} x A, p99 ${fmt(r.p99Ms, 1)} ms`,
        pass: (r.ratio ?? 0) >= 0.6 && (r.p99Ms ?? Infinity) <= 15,
      })),
      rowTarget('GetSession, PAT + apiMethod >= 0.5 x Baseline A, p99 <= 15 ms', gsPat, (r) => ({
        measured: `${fmt(rate(r))} req/s = ${fmt(r.ratio, 2)} x A, p99 ${fmt(r.p99Ms, 1)} ms`,
        pass: (r.ratio ?? 0) >= 0.5 && (r.p99Ms ?? Infinity) <= 15,
      })),
      gsRpc === null
        ? skipped('JSON-RPC batch of 10 >= 3 x calls/s of single GetSession (/rpc)')
        : rowTarget('JSON-RPC batch of 10 >= 3 x calls/s of single GetSession (/rpc)', batch, (r) => ({
            measured: `${fmt(rate(r))} calls/s = ${fmt(single === 0 ? null : rate(r) / single, 2)} x ${fmt(single)}`,
            pass: single > 0 && rate(r) >= 3 * single,
          })),
      {
        target: 'server peak RSS (VmHWM) <= 200 MB',
        measured:
          serverPeak === null ? 'n/a (--url)' : peakRss.map((p) => `${p.process}: ${fmt(p.mb, 0)} MB`).join('; '),
        pass: serverPeak === null ? null : judge(serverPeak <= 200),
      },
      selected(embeddedName)
        ? {
            target: 'embedded start (npm start) to /readyz 200 <= 5 s',
            measured: `first start ${fmt(first.ms / 1000, 2)} s, restart ${fmt(again.ms / 1000, 2)} s`,
            pass: judge(first.ms <= 5000 && again.ms <= 5000),
          }
        : skipped('embedded start (npm start) to /readyz 200 <= 5 s'),
    ]

    const errors = rows.reduce((n, r) => n + r.errors, 0)
    if (errors > 0) notes.push(`${errors} errors in total (see the rows' statuses in the JSON)`)
    if (first.note !== null || again.note !== null) notes.push('the embedded start failed')
    notes.push(
      `seeding took ${Object.entries(seededAt)
        .map(([k, v]) => `${k} ${fmt(v / 1000, 1)} s`)
        .join(', ')}`,
    )
    const elapsed = (performance.now() - benchStarted) / 1000

    // ---- report
    const scenarioTable = table(
      [
        'scenario',
        'rate (median)',
        'min–max',
        'p50 ms',
        'p99 ms',
        'ratio',
        'CPU ms/req',
        'Redis+PG ms/req',
        'peak RSS MB',
        'errors',
        'other CPU',
      ],
      rows.map((r) => [
        r.name,
        r.rate === null ? 'n/a' : `${fmt(r.rate.median, rateDigits(r.rate.median))} ${r.unit}`,
        r.rate === null
          ? 'n/a'
          : `${fmt(r.rate.min, rateDigits(r.rate.min))}–${fmt(r.rate.max, rateDigits(r.rate.max))}`,
        fmt(r.p50Ms, r.p50Ms !== null && r.p50Ms >= 100 ? 0 : 2),
        fmt(r.p99Ms, r.p99Ms !== null && r.p99Ms >= 100 ? 0 : 2),
        r.ratio === null ? '' : `${fmt(r.ratio, 2)} × ${r.baseline ?? ''}`,
        fmt(r.cpuMsPerRequest, 3),
        fmt(r.backingCpuMsPerRequest, 3),
        fmt(r.peakRssMB, 0),
        String(r.errors),
        r.foreignCpuMax === null ? 'n/a' : `${fmt(r.foreignCpuMax * 100, 0)}%`,
      ]),
    )
    const targetTable = table(
      ['target', 'measured', 'result'],
      targets.map((c) => [c.target, c.measured, c.pass === null ? '—' : c.pass ? 'PASS' : 'FAIL']),
      () => false,
    )
    const rowNotes = rows.flatMap((r) => r.notes.map((n) => `${r.name}: ${n}`))
    const cpus = os.cpus()
    const machine = `${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${fmt(os.totalmem() / 2 ** 30, 0)} GiB, ${os.type()} ${os.release()}, Node ${process.version}`
    const header = [
      `latchkey bench ${new Date().toISOString()} — ${machine}`,
      `${options.connections} connections, ${options.warmup} s warm-up + ${options.runs} × ${options.duration} s per scenario (one continuous load); median and min–max of the runs; p50/p99: median of the runs'`,
      `service: ${options.url ?? `bin/latchkey${options.nodeArgs.length === 0 ? '' : ` (LATCHKEY_NODE_ARGS=${options.nodeArgs.join(' ')})`} (NODE_ENV=production, LOG_LEVEL=info)`}`,
      `bcrypt cost ${bcryptCost}, UV_THREADPOOL_SIZE ${threadPool}; ratios: A = bare Fastify (req/s or calls/s), B = bcrypt compares/s`,
      `CPU ms/req: server user+system CPU per HTTP request; Redis+PG: the same for the local redis-server and postgres processes; other CPU: the most the rest of the machine used during a run (share of all cores; high = a noisy neighbour)`,
    ]
    const report = [
      ...header,
      '',
      scenarioTable,
      '',
      targetTable,
      '',
      ...[...rowNotes, ...notes].map((n) => `- ${n}`),
      '',
      `total ${fmt(elapsed, 0)} s`,
    ].join('\n')
    process.stdout.write(`\n${report}\n`)

    mkdirSync(path.dirname(options.out), { recursive: true })
    writeFileSync(
      options.out,
      `${JSON.stringify(
        {
          date: new Date().toISOString(),
          machine,
          options: { ...options, out: undefined, bcryptCost: Number(bcryptCost), threadPool: Number(threadPool) },
          rows,
          targets,
          embeddedStartMs: { first: first.ms, restart: again.ms },
          serverPeakRssMB: peakRss,
          notes: [...rowNotes, ...notes],
          elapsedSeconds: elapsed,
          table: `${scenarioTable}\n\n${targetTable}`,
        },
        null,
        2,
      )}\n`,
    )
    progress(`wrote ${path.relative(root, options.out)}`)
    if (options.smoke && (errors > 0 || first.note !== null || again.note !== null)) process.exitCode = 1
    succeeded = true
  } finally {
    await stopAll()
    if (succeeded) rmSync(workDir, { recursive: true, force: true })
    else if (readdirSync(workDir).length > 0) progress(`logs kept in ${workDir}`)
  }
}

let interrupted = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130)
    interrupted = true
    progress(`${signal}: stopping children`)
    void stopAll().finally(() => process.exit(130))
  })
}

main().catch(async (error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  await stopAll()
  // Keep the children's logs for a post-mortem, but not an empty folder.
  if (readdirSync(workDir).length === 0) rmSync(workDir, { recursive: true, force: true })
  process.exit(1)
})
