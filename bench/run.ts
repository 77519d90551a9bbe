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
 *
 * This file is the entry: build, measure, report, and stop every child whatever happens. Options
 * are in cli.ts, child processes in processes.ts, the backing stores and the service in
 * provision.ts, the measurements in scenarios.ts, the targets and the report in report.ts.
 */
import { readdirSync, rmSync, statSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { bcryptCost, options, root, threadPool } from './cli.js'
import { childEnv, progress, stopAll, workDir } from './processes.js'
import { checkTargets, writeReport } from './report.js'
import { measure } from './scenarios.js'

async function main(): Promise<void> {
  progress(`options: ${JSON.stringify({ ...options, bcryptCost, threadPool })}`)
  const distMain = path.join(root, 'dist/src/main.js')
  if (options.build) {
    progress('npm run build')
    const built = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, encoding: 'utf8', env: childEnv({}) })
    if (built.status !== 0) throw new Error(`npm run build failed:\n${built.stdout}\n${built.stderr}`)
  }
  statSync(distMain)

  let succeeded = false
  try {
    const measured = await measure()
    const errors = writeReport(measured, checkTargets(measured))
    const { first, again } = measured.embedded
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
