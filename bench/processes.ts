/**
 * Process supervision for the bench: children started with their output in a work folder,
 * stopped with SIGTERM then SIGKILL, and everything still running (plus owed cleanups) stopped
 * once whatever happens.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { root } from './cli.js'

export const benchStarted = performance.now()
export const workDir = mkdtempSync(path.join(os.tmpdir(), 'latchkey-bench-'))

export function progress(message: string): void {
  const seconds = ((performance.now() - benchStarted) / 1000).toFixed(0).padStart(4)
  process.stderr.write(`[bench ${seconds}s] ${message}\n`)
}

export interface Child {
  proc: ChildProcess
  pid: number
  exited: () => boolean
  exit: Promise<void>
  logFile: string
}

/** Environment for children: ours minus anything that would load a TypeScript loader into them. */
export function childEnv(extra: Record<string, string>, drop: string[] = []): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env }
  delete env['NODE_OPTIONS']
  for (const key of drop) delete env[key]
  // Several services run at once here: none takes the default metrics port.
  return { METRICS_PORT: '0', ...env, ...extra }
}

export function start(name: string, command: string, args: string[], env: NodeJS.ProcessEnv, detached = false): Child {
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

/** SIGTERM (to the process group when detached), then SIGKILL after `graceMs`; it is no longer `running`. */
export async function stop(child: Child, group = false, graceMs = 10_000): Promise<void> {
  for (const entry of running) if (entry.child === child) running.delete(entry)
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

export const running = new Set<{ child: Child; group: boolean }>()
/** Cleanups still owed (the database, the Redis keys), run once whatever happens. */
export const cleanups: (() => Promise<void>)[] = []
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map(({ child, group }) => stop(child, group)))
  running.clear()
  if (cleanups.length > 0) progress('cleanup: dropping the database and the Redis keys')
  for (const cleanup of cleanups.splice(0))
    await cleanup().catch((error: unknown) => progress(`cleanup failed: ${String(error)}`))
}

export function logLines(file: string): number {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '').length
  } catch {
    return 0
  }
}
