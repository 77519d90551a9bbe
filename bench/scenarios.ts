/**
 * The measurements: Baseline B (bcrypt), the service seeded through its API, Baseline A (bare
 * Fastify), every selected scenario under autocannon load (load.ts, in its own process), the
 * rate-limit scenario on default limits, and two embedded starts.
 */
import { fork, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { bcryptCost, options, root, selected, threadPool } from './cli.js'
import {
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
import { childEnv, cleanups, logLines, progress, workDir } from './processes.js'
import {
  createBacking,
  embeddedStart,
  startBaselineFastify,
  startEmbedded,
  startService,
  stopTarget,
  type Target,
} from './provision.js'
import { fmt } from './report.js'
import { createToken, enableTwoFactor, mapLimit, newAccount, preBlock, signIn, signUp, type Account } from './seed.js'

export async function runLoad(target: Target, plan: LoadPlan): Promise<LoadResult> {
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

export interface BcryptBaseline {
  cost: number
  threads: number
  runs: { seconds: number; compares: number; rate: number; foreignCpuShare: number | null }[]
}

export function baselineBcrypt(): BcryptBaseline {
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

export type BaselineName = 'A' | 'B'

export interface Row {
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

export function maxOrNull(values: (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null)
  return known.length === 0 ? null : Math.max(...known)
}

export function summarize(
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

export const json = { 'content-type': 'application/json' }
export const bearer = (credential: string) => ({ ...json, authorization: `Bearer ${credential}` })
const getSessionApi = (session: string): FixedRequest => ({
  method: 'POST',
  path: '/api/GetSession',
  headers: bearer(session),
  body: '{}',
})
const signInName = 'SignIn (no 2FA)'
const twoFactorName = 'SignIn + Verify2FACode (TOTP)'
export const rpcGetSession = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'GetSession' })
export const rpcBatch = JSON.stringify(
  Array.from({ length: 10 }, (_, i) => ({ jsonrpc: '2.0', id: i + 1, method: 'GetSession' })),
)

export function fixed(
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

export interface ScenarioRun {
  row: Row
  result: LoadResult
}

export interface EmbeddedStart {
  ms: number
  note: string | null
}

export interface Measured {
  rows: Row[]
  notes: string[]
  peakRss: { process: string; mb: number | null }[]
  seededAt: Record<string, number>
  /** Baseline B's median compares/s: the reference of the bcrypt-bound scenarios. */
  bMedian: number
  /** The scenarios the targets judge; null when not selected. */
  runs: Record<'signIn' | 'gsSession' | 'gsPat' | 'gsRpc' | 'batch', ScenarioRun | null>
  embedded: { ran: boolean; first: EmbeddedStart; again: EmbeddedStart }
}

export const embeddedName = 'embedded start'

export async function measure(): Promise<Measured> {
  const rows: Row[] = []
  const notes: string[] = []
  const peakRss: { process: string; mb: number | null }[] = []
  const seededAt: Record<string, number> = {}

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
  const seedConcurrency = Number(threadPool) * 2

  // The 2FA pool: the server takes the previous, current and next step, each once, so an account
  // can complete a TOTP sign-in 2–3 times at once (Enable2FA spent one step), then once per 30 s
  // step; the pool must outlast the whole 2FA scenario at bcrypt speed, every connection holding one.
  const scenarioSeconds = options.warmup + options.runs * options.duration
  const needed = Math.ceil((1.25 * (bForSizing * scenarioSeconds + options.connections)) / 2.5)
  const poolSize =
    !selected(signInName) && !selected(twoFactorName)
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
  const sessionApi = sessions.map(getSessionApi)
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
  ): Promise<ScenarioRun | null> => {
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
  const signInResult = await scenario(signInName, 'req/s', 'B', () =>
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
  let first: EmbeddedStart = { ms: Number.NaN, note: null }
  let again = first
  if (selected(embeddedName)) {
    progress('embedded start (npm start, no DATABASE_URL / REDIS_URL): first start and restart')
    const embeddedDir = path.join(workDir, 'embedded')
    mkdirSync(embeddedDir, { recursive: true })
    first = await embeddedStart(embeddedDir, 'first')
    again = await embeddedStart(embeddedDir, 'restart')
    for (const e of [first, again]) if (e.note !== null) notes.push(e.note)
  }

  // ---- embedded mode under load (PGlite and the in-process store in the service process): its peak RSS
  const embeddedLoadName = 'embedded: GetSession, session (/api)'
  if (backing !== null && selected(embeddedLoadName)) {
    const embedded = await startEmbedded(path.join(workDir, 'embedded-load'))
    try {
      const accounts = Array.from({ length: 2 }, () => newAccount('emb'))
      await signUp(embedded.baseUrl, accounts, seedConcurrency)
      const embeddedSessions = await mapLimit(accounts, seedConcurrency, (a) => signIn(embedded.baseUrl, a))
      await scenario(
        embeddedLoadName,
        'req/s',
        'A',
        () => fixed(embeddedSessions.map(getSessionApi), { includes: ['"authType":"session"'] }),
        embedded,
      )
      if (embedded.pid !== null)
        peakRss.push({ process: 'embedded (PGlite, in-process store)', mb: processMemoryMB(embedded.pid, 'VmHWM') })
    } finally {
      await stopTarget(embedded)
    }
  }

  return {
    rows,
    notes,
    peakRss,
    seededAt,
    bMedian,
    runs: { signIn: signInResult, gsSession, gsPat, gsRpc, batch },
    embedded: { ran: selected(embeddedName), first, again },
  }
}
