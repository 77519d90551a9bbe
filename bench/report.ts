/** The bench's verdict and report: the targets checked, the Markdown tables, and the JSON written. */
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { bcryptCost, options, root, threadPool } from './cli.js'
import { benchStarted, progress } from './processes.js'
import type { Measured, Row } from './scenarios.js'

export const fmt = (n: number | null, digits = 0) =>
  n === null || Number.isNaN(n)
    ? 'n/a'
    : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
export const rateDigits = (n: number) => (n < 100 ? 1 : 0)

/** A Markdown table; `numeric` columns are right-aligned. */
export function table(header: string[], rows: string[][], numeric: (i: number) => boolean = (i) => i > 0): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (numeric(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join(' | ')} |`
  const rule = `|${widths.map((w, i) => (numeric(i) ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`
  return [line(header), rule, ...rows.map(line)].join('\n')
}

export interface TargetCheck {
  target: string
  measured: string
  pass: boolean | null
}

/** Each target against its measurement; in the smoke run nothing is judged. */
export function checkTargets({ peakRss, bMedian, runs, embedded }: Measured): TargetCheck[] {
  const { signIn: signInResult, gsSession, gsPat, gsRpc, batch } = runs
  const { first, again } = embedded
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
    // Issue 14's targets (issue 6 had 0.6 / 0.5 and 15 ms).
    rowTarget('GetSession, session >= 0.7 x Baseline A, p99 <= 10 ms', gsSession, (r) => ({
      measured: `${fmt(rate(r))} req/s = ${fmt(r.ratio, 2)} x A, p99 ${fmt(r.p99Ms, 1)} ms`,
      pass: (r.ratio ?? 0) >= 0.7 && (r.p99Ms ?? Infinity) <= 10,
    })),
    rowTarget('GetSession, PAT + apiMethod >= 0.6 x Baseline A, p99 <= 10 ms', gsPat, (r) => ({
      measured: `${fmt(rate(r))} req/s = ${fmt(r.ratio, 2)} x A, p99 ${fmt(r.p99Ms, 1)} ms`,
      pass: (r.ratio ?? 0) >= 0.6 && (r.p99Ms ?? Infinity) <= 10,
    })),
    gsRpc === null
      ? skipped('JSON-RPC batch of 10 >= 3 x calls/s of single GetSession (/rpc)')
      : rowTarget('JSON-RPC batch of 10 >= 3 x calls/s of single GetSession (/rpc)', batch, (r) => ({
          measured: `${fmt(rate(r))} calls/s = ${fmt(single === 0 ? null : rate(r) / single, 2)} x ${fmt(single)}`,
          pass: single > 0 && rate(r) >= 3 * single,
        })),
    {
      target: 'server peak RSS (VmHWM) <= 200 MB, real-server and embedded modes',
      measured: serverPeak === null ? 'n/a (--url)' : peakRss.map((p) => `${p.process}: ${fmt(p.mb, 0)} MB`).join('; '),
      pass: serverPeak === null ? null : judge(serverPeak <= 200),
    },
    embedded.ran
      ? {
          target: 'embedded start (npm start) to /readyz 200 <= 5 s',
          measured: `first start ${fmt(first.ms / 1000, 2)} s, restart ${fmt(again.ms / 1000, 2)} s`,
          pass: judge(first.ms <= 5000 && again.ms <= 5000),
        }
      : skipped('embedded start (npm start) to /readyz 200 <= 5 s'),
  ]
  return targets
}

/** Prints the report and writes the JSON; returns the number of failed requests. */
export function writeReport({ rows, notes, peakRss, seededAt, embedded }: Measured, targets: TargetCheck[]): number {
  const { first, again } = embedded
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
      r.rate === null ? 'n/a' : `${fmt(r.rate.min, rateDigits(r.rate.min))}–${fmt(r.rate.max, rateDigits(r.rate.max))}`,
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
  return errors
}
