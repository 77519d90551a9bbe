/**
 * Load generator child: receives a LoadSpec over IPC, drives the server with autocannon for
 * warm-up + runs × run seconds as ONE continuous load, and cuts it into windows (the warm-up, then
 * each run). Continuous load means no run starts with an empty queue or inherits abandoned work
 * from the previous one (which matters when a request costs 200 ms of bcrypt). At each window edge
 * it reads the server's CPU time from /proc; it samples the server's RSS every 250 ms.
 */
import { availableParallelism } from 'node:os'
import autocannon from 'autocannon'
import {
  backingStoresCpuMs,
  machineBusyMs,
  nextUsableStep,
  percentile,
  totpCode,
  processCpuMs,
  processMemoryMB,
  type FixedRequest,
  type LoadMessage,
  type LoadPlan,
  type LoadResult,
  type LoadSpec,
  type TwoFactorAccount,
  type WindowResult,
} from './lib.js'

interface OpenWindow {
  startedAt: number
  cpuAt: number | null
  machineAt: number | null
  selfAt: number
  backingAt: number
  responses: number
  units: number
  errors: number
  statuses: Record<string, number>
  latencies: number[]
}

const selfCpuMs = () => {
  const usage = process.cpuUsage()
  return (usage.user + usage.system) / 1000
}

class Windows {
  private current: OpenWindow
  readonly closed: WindowResult[] = []

  constructor(private readonly serverPid: number | null) {
    this.current = this.open()
  }

  private open(): OpenWindow {
    return {
      startedAt: performance.now(),
      cpuAt: this.serverPid === null ? null : processCpuMs(this.serverPid),
      machineAt: machineBusyMs(),
      selfAt: selfCpuMs(),
      backingAt: backingStoresCpuMs(),
      responses: 0,
      units: 0,
      errors: 0,
      statuses: {},
      latencies: [],
    }
  }

  response(status: number): void {
    this.current.responses++
    this.count(String(status))
  }

  success(units: number, latencyMs: number): void {
    this.current.units += units
    this.current.latencies.push(latencyMs)
  }

  /** Takes back a success counted a moment ago (its body failed the check). */
  retract(units: number): void {
    this.current.units -= units
    this.current.latencies.pop()
  }

  error(kind: string): void {
    this.current.errors++
    this.count(kind)
  }

  count(kind: string): void {
    this.current.statuses[kind] = (this.current.statuses[kind] ?? 0) + 1
  }

  /** Closes the open window and opens the next one. */
  cut(): void {
    const w = this.current
    const next = this.open()
    const seconds = (next.startedAt - w.startedAt) / 1000
    const sorted = Float64Array.from(w.latencies).sort()
    const serverCpuMs = w.cpuAt === null || next.cpuAt === null ? null : next.cpuAt - w.cpuAt
    const backingCpuMs = next.backingAt - w.backingAt
    const foreignMs =
      w.machineAt === null || next.machineAt === null
        ? null
        : next.machineAt - w.machineAt - (next.selfAt - w.selfAt) - (serverCpuMs ?? 0) - backingCpuMs
    this.closed.push({
      seconds,
      responses: w.responses,
      units: w.units,
      errors: w.errors,
      statuses: w.statuses,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      serverCpuMs,
      backingCpuMs,
      foreignCpuShare:
        foreignMs === null || serverCpuMs === null
          ? null
          : Math.max(0, foreignMs) / (seconds * 1000 * availableParallelism()),
    })
    this.current = next
  }
}

/**
 * autocannon restarts a connection's request sequence when setupRequest answers a falsy value; its
 * typings do not admit that, hence this one cast.
 */
const restartSequence = null as unknown as autocannon.Request

interface Scenario {
  requests: autocannon.Request[]
  verifyBody?: (body: string | Buffer | undefined) => boolean
  /** Units per successful response, for the 'response' event (0: the plan counts its own units). */
  unitsPerResponse: number
  expectStatus: Set<number>
  notes(): string[]
}

function fixedScenario(plan: Extract<LoadPlan, { kind: 'fixed' }>, sessions: Record<string, string>): Scenario {
  const collect = (login: string | undefined, status: number, body: string) => {
    if (!plan.collectSessions || login === undefined || status !== 200 || sessions[login] !== undefined) return
    const parsed: unknown = JSON.parse(body)
    if (typeof parsed === 'object' && parsed !== null && 'session' in parsed && typeof parsed.session === 'string')
      sessions[login] = parsed.session
  }
  let requests: autocannon.Request[]
  if (plan.shareCursor) {
    let cursor = 0
    requests = [
      {
        setupRequest: (request, context) => {
          const r = plan.requests[cursor++ % plan.requests.length]
          if (r === undefined) return restartSequence
          const c = context as { login?: string }
          c.login = r.login
          return { ...request, method: r.method, path: r.path, headers: r.headers, body: r.body }
        },
        onResponse: (status, body, context) => collect((context as { login?: string }).login, status, body),
      },
    ]
  } else {
    requests = plan.requests.map((r: FixedRequest): autocannon.Request => {
      const request: autocannon.Request = { method: r.method, path: r.path, headers: r.headers, body: r.body }
      if (plan.collectSessions) request.onResponse = (status, body) => collect(r.login, status, body)
      return request
    })
  }
  const { bodyIncludesAny, bodyExcludes } = plan
  return {
    requests,
    verifyBody: (raw) => {
      const body = typeof raw === 'string' ? raw : (raw?.toString() ?? '')
      return bodyIncludesAny.some((s) => body.includes(s)) && !bodyExcludes.some((s) => body.includes(s))
    },
    unitsPerResponse: plan.unitsPerRequest,
    expectStatus: new Set(plan.expectStatus),
    notes: () => [],
  }
}

interface PairContext {
  account?: number
  token?: string
  startedAt?: number
}

/**
 * SignIn → Verify2FACode pairs over a pool of 2FA accounts. Each account is in at most one pair at a
 * time (so its codes reach the server in step order); accounts are taken round-robin among those
 * that still have a usable step, so replay protection never has a reason to refuse a code.
 */
function twoFactorScenario(accounts: TwoFactorAccount[], windows: Windows): Scenario {
  const last = accounts.map((a) => a.lastStep)
  const busy = accounts.map(() => false)
  let cursor = 0
  let exhausted = 0
  let refusedCodes = 0

  const pick = (nowMs: number): number => {
    for (let n = 0; n < accounts.length; n++) {
      const i = (cursor + n) % accounts.length
      if (!busy[i] && nextUsableStep(last[i] ?? 0, nowMs) !== null) {
        cursor = i + 1
        busy[i] = true
        return i
      }
    }
    // No account can take a code now: sign in with an idle one anyway; its Verify is skipped below.
    for (let n = 0; n < accounts.length; n++) {
      const i = (cursor + n) % accounts.length
      if (!busy[i]) {
        cursor = i + 1
        busy[i] = true
        return i
      }
    }
    return cursor++ % accounts.length
  }

  const headers = { 'content-type': 'application/json' }
  const signIn: autocannon.Request = {
    method: 'POST',
    path: '/api/SignIn',
    headers,
    setupRequest: (request, context) => {
      const c = context as PairContext
      const i = pick(Date.now())
      const account = accounts[i]
      if (account === undefined) return restartSequence
      c.account = i
      c.token = undefined
      c.startedAt = performance.now()
      return { ...request, body: JSON.stringify({ login: account.login, password: account.password }) }
    },
    onResponse: (status, body, context) => {
      const c = context as PairContext
      if (status === 200) {
        const parsed: unknown = JSON.parse(body)
        if (
          typeof parsed === 'object' &&
          parsed !== null &&
          'twoFactorToken' in parsed &&
          typeof parsed.twoFactorToken === 'string'
        ) {
          c.token = parsed.twoFactorToken
          return
        }
      }
      windows.error('signin-failed')
      if (c.account !== undefined) busy[c.account] = false
      c.account = undefined
    },
  }
  const verify: autocannon.Request = {
    method: 'POST',
    path: '/api/Verify2FACode',
    headers,
    setupRequest: (request, context) => {
      const c = context as PairContext
      if (c.account === undefined || c.token === undefined) return restartSequence
      const step = nextUsableStep(last[c.account] ?? 0, Date.now())
      const account = accounts[c.account]
      if (step === null || account === undefined) {
        exhausted++
        busy[c.account] = false
        c.account = undefined
        return restartSequence
      }
      last[c.account] = step
      const code = totpCode(account.secret, step)
      return { ...request, body: JSON.stringify({ twoFactorToken: c.token, code }) }
    },
    onResponse: (status, body, context) => {
      const c = context as PairContext
      if (c.account !== undefined) busy[c.account] = false
      if (status === 200 && body.includes('"session"')) {
        windows.success(1, performance.now() - (c.startedAt ?? performance.now()))
      } else if (body.includes('INVALID_2FA_CODE')) {
        refusedCodes++
        windows.error('code-refused')
      } else {
        windows.error('verify-failed')
      }
      c.account = undefined
      c.token = undefined
    },
  }
  return {
    requests: [signIn, verify],
    unitsPerResponse: 0,
    expectStatus: new Set([200]),
    notes: () => [
      ...(exhausted > 0
        ? [`2FA pool too small: ${exhausted} sign-ins had no usable TOTP step left (Verify skipped)`]
        : []),
      ...(refusedCodes > 0 ? [`${refusedCodes} fresh TOTP codes refused`] : []),
    ],
  }
}

async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const windows = new Windows(spec.serverPid)
  const sessions: Record<string, string> = {}
  const scenario =
    spec.plan.kind === 'fixed' ? fixedScenario(spec.plan, sessions) : twoFactorScenario(spec.plan.accounts, windows)

  let peakRss: number | null = null
  const sampleRss = () => {
    if (spec.serverPid === null) return
    const rss = processMemoryMB(spec.serverPid, 'VmRSS')
    if (rss !== null && (peakRss === null || rss > peakRss)) peakRss = rss
  }
  sampleRss()
  const rssTimer = setInterval(sampleRss, 250)

  const totalSeconds = spec.warmupSeconds + spec.runs * spec.runSeconds
  const options: autocannon.Options = {
    url: spec.baseUrl,
    connections: spec.connections,
    duration: totalSeconds + 5,
    timeout: spec.timeoutSeconds,
    requests: scenario.requests,
    ...(scenario.verifyBody === undefined ? {} : { verifyBody: scenario.verifyBody }),
  }

  const result = await new Promise<LoadResult>((resolve, reject) => {
    const started = performance.now()
    const instance = autocannon(options, (error) => {
      clearInterval(rssTimer)
      if (error !== null && error !== undefined) {
        reject(error instanceof Error ? error : new Error(String(error)))
        return
      }
      const closed = windows.closed
      const warmup = spec.warmupSeconds > 0 ? (closed[0] ?? null) : null
      resolve({
        warmup,
        runs: closed.slice(warmup === null ? 0 : 1),
        peakRssMB: peakRss,
        sessions,
        notes: scenario.notes(),
      })
    })

    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      windows.response(statusCode)
      if (scenario.unitsPerResponse === 0) return
      if (scenario.expectStatus.has(statusCode)) windows.success(scenario.unitsPerResponse, responseTime)
      else windows.error(`unexpected-${statusCode}`)
    })
    // Emitted by autocannon for each body verifyBody refused; missing from its typings.
    const emitter: NodeJS.EventEmitter = instance
    emitter.on('reqMismatch', () => {
      if (scenario.unitsPerResponse > 0) windows.retract(scenario.unitsPerResponse)
      windows.error('body-mismatch')
    })
    instance.on('reqError', () => windows.error('socket'))

    // Window edges, at fixed offsets from the start so timer lag does not accumulate.
    const edges: number[] = []
    if (spec.warmupSeconds > 0) edges.push(spec.warmupSeconds)
    for (let i = 1; i <= spec.runs; i++) edges.push(spec.warmupSeconds + i * spec.runSeconds)
    const next = (k: number) => {
      const edge = edges[k]
      if (edge === undefined) {
        instance.stop()
        return
      }
      setTimeout(
        () => {
          windows.cut()
          next(k + 1)
        },
        Math.max(0, started + edge * 1000 - performance.now()),
      )
    }
    next(0)
  })
  return result
}

process.once('message', (message: unknown) => {
  const spec = message as LoadSpec
  const reply = (payload: LoadMessage) => {
    if (process.send === undefined) {
      console.log(JSON.stringify(payload))
      process.exit(0)
    }
    process.send(payload, () => process.exit(0))
  }
  runLoad(spec)
    .then((result) => reply({ ok: true, result }))
    .catch((error: unknown) =>
      reply({ ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
    )
})
