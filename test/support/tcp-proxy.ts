/**
 * A TCP proxy for outage tests: traffic passes through to the target until `pause()`, which
 * resets every live connection and refuses new ones (as a crashed or partitioned server would)
 * until `resume()`, or `blackhole()`, which keeps every connection open and accepts new ones but
 * lets nothing through (a server that stopped answering: the case only timeouts can end). Lets a
 * test take "Postgres" away from one app without touching the shared server.
 */
import { connect, createServer, type Server, type Socket } from 'node:net'

export interface TcpProxy {
  /** Where the proxy listens (127.0.0.1). */
  port: number
  /** `url` with its host and port replaced by the proxy's. */
  via(url: string): string
  /** Resets live connections and refuses new ones. */
  pause(): void
  /** Keeps connections open (and accepts new ones) but drops every byte both ways, until pause() or close(). */
  blackhole(): void
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
  let holed = false
  const pairs = new Set<{ client: Socket; upstream: Socket }>()
  const swallowed = new Set<Socket>()

  const server: Server = createServer((client) => {
    if (paused) {
      client.on('error', () => undefined)
      reset(client)
      return
    }
    if (holed) {
      swallowed.add(client)
      client.on('error', () => undefined).on('close', () => swallowed.delete(client))
      client.resume()
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
    // Forwarded by hand rather than piped, so that blackhole() can drop bytes on live connections.
    client.on('data', (chunk: Buffer) => {
      if (!holed) upstream.write(chunk)
    })
    upstream.on('data', (chunk: Buffer) => {
      if (!holed) client.write(chunk)
    })
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const pause = () => {
    paused = true
    holed = false
    for (const { client, upstream } of [...pairs]) {
      reset(client)
      reset(upstream)
    }
    pairs.clear()
    for (const client of [...swallowed]) reset(client)
    swallowed.clear()
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
    blackhole() {
      holed = true
    },
    resume() {
      paused = false
      holed = false
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

const defaultPorts: Record<string, number> = { 'postgres:': 5432, 'postgresql:': 5432, 'redis:': 6379 }

/** A proxy to the server `url` names (on its scheme's default port when it names none). */
export function startTcpProxyTo(url: string): Promise<TcpProxy> {
  const target = new URL(url)
  const port = Number(target.port || defaultPorts[target.protocol])
  if (!Number.isInteger(port) || port <= 0) throw new Error(`no port for ${target.protocol} in a test proxy`)
  return startTcpProxy({ host: target.hostname, port })
}
