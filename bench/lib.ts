/**
 * Pieces shared by the bench orchestrator (run.ts) and its load generator (load.ts): the spec a
 * load child receives, the result it sends back, and readers of /proc for server CPU and memory.
 */
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { Secret, TOTP } from 'otpauth'

/** One fixed HTTP request; autocannon prebuilds these once, so they cost the load generator nothing per request. */
export interface FixedRequest {
  method: 'GET' | 'POST'
  path: string
  headers: Record<string, string>
  body: string
  /** SignIn requests only: the login whose session the response carries (collected for later seeding). */
  login?: string
}

/** A 2FA pool account as the load generator needs it. */
export interface TwoFactorAccount {
  login: string
  password: string
  /** base32 TOTP secret from Get2FAConfig. */
  secret: string
  /** Last TOTP step the server accepted for this account (Enable2FA spends one). */
  lastStep: number
}

export type LoadPlan =
  | {
      kind: 'fixed'
      requests: FixedRequest[]
      /** HTTP statuses that count as success. */
      expectStatus: number[]
      /** A successful body contains at least one of these... */
      bodyIncludesAny: string[]
      /** ...and none of these (JSON-RPC errors come with HTTP 200). */
      bodyExcludes: string[]
      /** Units of work per request (10 for a batch of ten calls). */
      unitsPerRequest: number
      /** Collect one session per login from SignIn answers. */
      collectSessions: boolean
      /**
       * false: every connection cycles through `requests` in order (prebuilt, free for the load
       * generator). true: all connections share one round-robin cursor (built per request), so
       * every login gets its turn early.
       */
      shareCursor: boolean
    }
  | { kind: 'two-factor'; accounts: TwoFactorAccount[] }

export interface LoadSpec {
  baseUrl: string
  connections: number
  warmupSeconds: number
  runSeconds: number
  runs: number
  timeoutSeconds: number
  /** Server process to read CPU and RSS from; null when it is not on this machine. */
  serverPid: number | null
  plan: LoadPlan
}

export interface WindowResult {
  seconds: number
  /** HTTP responses received (all statuses). */
  responses: number
  /** Successful units: requests, pairs (2FA) or calls (batch). */
  units: number
  errors: number
  /** Count per HTTP status (plus "mismatch" for bodies that failed the check, "socket" for errors/timeouts). */
  statuses: Record<string, number>
  /** Latency of successful units, ms. */
  p50: number | null
  p99: number | null
  /** Server CPU (user + system) spent in the window, ms; null without a local server. */
  serverCpuMs: number | null
  /**
   * CPU used by everything else on the machine (neither the server nor this load generator), as a
   * share of all cores: the machine is shared, and a busy neighbour skews a window.
   */
  foreignCpuShare: number | null
  /** CPU of the local redis-server and postgres processes in the window, ms (they serve the server). */
  backingCpuMs: number | null
}

export interface LoadResult {
  warmup: WindowResult | null
  runs: WindowResult[]
  /** Highest server VmRSS sampled during the scenario, MB. */
  peakRssMB: number | null
  sessions: Record<string, string>
  notes: string[]
}

export type LoadMessage = { ok: true; result: LoadResult } | { ok: false; error: string }

let ticksPerSecond: number | undefined
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    } catch {
      ticksPerSecond = 100
    }
  }
  return ticksPerSecond
}

/** utime + stime of a process in ms, from /proc/<pid>/stat (fields 14 and 15). */
export function processCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(fields[11]) + Number(fields[12])
    return (ticks * 1000) / clockTicks()
  } catch {
    return null
  }
}

/** Summed CPU (ms) of the local backing stores: every process named redis-server or postgres. */
export function backingStoresCpuMs(): number {
  let total = 0
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim()
      if (comm === 'redis-server' || comm === 'postgres') total += processCpuMs(Number(entry)) ?? 0
    } catch {
      // gone meanwhile
    }
  }
  return total
}

/** Busy CPU time of the whole machine since boot (all cores), ms, from /proc/stat. */
export function machineBusyMs(): number | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? ''
    // cpu  user nice system idle iowait irq softirq steal guest guest_nice
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number)
    return ((user + nice + system + irq + softirq + steal) * 1000) / clockTicks()
  } catch {
    return null
  }
}

/** A VmRSS / VmHWM line of /proc/<pid>/status, in MB (10^6 bytes; the kernel reports KiB). */
export function processMemoryMB(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)
    return match?.[1] === undefined ? null : (Number(match[1]) * 1024) / 1e6
  } catch {
    return null
  }
}

export function percentile(sorted: Float64Array, p: number): number | null {
  if (sorted.length === 0) return null
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[index] ?? null
}

export function median(values: number[]): number | null {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? (sorted[mid] ?? null) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export { freePort } from '../test/support/calls.js'

/** Polls `url` until it answers 200; returns the ms it took, or throws after `timeoutMs`. */
export async function waitFor200(url: string, timeoutMs: number, alive: () => boolean = () => true): Promise<number> {
  const started = performance.now()
  for (;;) {
    if (!alive()) throw new Error(`the process serving ${url} exited before it was ready`)
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) })
      await response.arrayBuffer()
      if (response.status === 200) return performance.now() - started
    } catch {
      // not listening yet
    }
    if (performance.now() - started > timeoutMs) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`)
    await sleep(25)
  }
}

/** Waits until a process has used < 5% of one core over 300 ms (drains abandoned bcrypt work), at most `maxMs`. */
export async function waitForIdle(pid: number | null, maxMs: number): Promise<void> {
  if (pid === null) {
    await sleep(maxMs / 2)
    return
  }
  const started = performance.now()
  let before = processCpuMs(pid)
  while (performance.now() - started < maxMs) {
    await sleep(300)
    const now = processCpuMs(pid)
    if (now === null || before === null) return
    if (now - before < 15) return
    before = now
  }
}

const stepMs = 30_000
/** A previous-step code is used only while this much of the current step is left (it dies at the next step). */
const previousStepMarginMs = 2_000

/**
 * The earliest TOTP step an account whose last accepted step is `last` may still spend now: the
 * server accepts the previous, current and next step, each once and in increasing order. So a
 * fresh account can complete up to three sign-ins at once, then one per 30 s step.
 */
export function nextUsableStep(last: number, nowMs: number): number | null {
  const current = Math.floor(nowMs / stepMs)
  const lowest = stepMs - (nowMs % stepMs) > previousStepMarginMs ? current - 1 : current
  const step = Math.max(last + 1, lowest)
  return step <= current + 1 ? step : null
}

const secrets = new Map<string, Secret>()

/** RFC 6238 code (SHA-1, 6 digits, 30 s) of `step`, by an implementation independent of the service's (otpauth). */
export function totpCode(base32Secret: string, step: number): string {
  let secret = secrets.get(base32Secret)
  if (secret === undefined) {
    secret = Secret.fromBase32(base32Secret)
    secrets.set(base32Secret, secret)
  }
  return TOTP.generate({ secret, algorithm: 'SHA1', digits: 6, period: 30, timestamp: step * stepMs })
}
