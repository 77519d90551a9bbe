/** A private redis-server (no persistence) that a test may kill and start again on the same port. */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { eventually, freePort } from './calls.js'
import { collectOutput } from './service-process.js'

export interface PrivateRedis {
  url: string
  start(): Promise<void>
  /** SIGKILL: as a crash, with no persistence everything in it is lost. */
  kill(): Promise<void>
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort()
  let server: ChildProcess | null = null
  const redis: PrivateRedis = {
    url: `redis://127.0.0.1:${port}`,
    async start() {
      if (server !== null) return
      const child = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      )
      const output = collectOutput(child)
      await eventually(async () => output().includes('Ready to accept connections'), 10_000, 'redis-server start', 20)
      server = child
    },
    async kill() {
      const child = server
      server = null
      if (child === null || child.exitCode !== null) return
      const exited = once(child, 'exit')
      child.kill('SIGKILL')
      await exited
    },
  }
  await redis.start()
  return redis
}
