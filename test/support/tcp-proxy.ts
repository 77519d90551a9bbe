/**
 * A TCP proxy for outage tests: traffic passes through to the target until `pause()`, which
 * resets every live connection and refuses new ones (as a crashed or partitioned server would)
 * until `resume()`. Lets a test take "Postgres" away from one app without touching the shared server.
 */
import { connect, createServer, type Server, type Socket } from 'node:net'

export interface TcpProxy {
  /** Where the proxy listens (127.0.0.1). */
  port: number
  /** `url` with its host and port replaced by the proxy's. */
  via(url: string): string
  /** Resets live connections and refuses new ones. */
  pause(): void
  resume(): void
  /** Connections currently passed through. */
  readonly live: number
  close(): Promise<void>
}

/** Drops a socket with a TCP reset (RST) where Node can, so the peer learns at once. */
function reset(socket: Socket): void {
  if (socket.destroyed) return
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy()
  else socket.destroy()
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let paused = false
  const pairs = new Set<{ client: Socket; upstream: Socket }>()

  const server: Server = createServer((client) => {
    if (paused) {
      client.on('error', () => undefined)
      reset(client)
      return
    }
    const upstream = connect(target.port, target.host)
    const pair = { client, upstream }
    pairs.add(pair)
    const drop = () => {
      pairs.delete(pair)
      reset(client)
      reset(upstream)
    }
    client.on('error', drop).on('close', drop)
    upstream.on('error', drop).on('close', drop)
    client.pipe(upstream)
    upstream.pipe(client)
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const pause = () => {
    paused = true
    for (const { client, upstream } of [...pairs]) {
      reset(client)
      reset(upstream)
    }
    pairs.clear()
  }

  const address = server.address()
  if (typeof address !== 'object' || address === null) throw new Error('the proxy has no address')
  const port = address.port

  return {
    port,
    via(url: string) {
      const parsed = new URL(url)
      parsed.hostname = '127.0.0.1'
      parsed.port = String(port)
      return parsed.toString()
    },
    pause,
    resume() {
      paused = false
    },
    get live() {
      return pairs.size
    },
    async close() {
      pause()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
