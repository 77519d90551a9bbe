/** The bench's command line: its options, parsed once, and the settings derived from them. */
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

export interface Options {
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

export function parseOptions(argv: string[]): Options {
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

export const options = parseOptions(process.argv.slice(2))
// The smoke run checks that everything runs, not how fast: cheap bcrypt keeps it to seconds.
export const bcryptCost = process.env['BCRYPT_COST'] ?? (options.smoke ? '4' : '12')
export const threadPool = process.env['UV_THREADPOOL_SIZE'] ?? '4'
export const redisUrl = process.env['BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6379'

/** Whether the scenario named `name` runs (--only; baselines always run). */
export const selected = (name: string) =>
  options.only === null || name.toLowerCase().includes(options.only.toLowerCase())
