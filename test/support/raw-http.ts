/**
 * Raw HTTP/1.1 over a TCP socket, for what `inject()` cannot send: malformed requests, oversized
 * heads, conflicting framing, bodies that never finish. The answer is parsed loosely (status,
 * headers, body) and the whole raw text is kept so tests can scan it for echoes.
 */
import { connect, type Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'

export interface RawAnswer {
  status: number
  headers: Record<string, string>
  body: string
  /** Everything the server wrote, head and body. */
  raw: string
  /** The server closed the connection (rather than the test giving up). */
  closed: boolean
  elapsedMs: number
}

/** Starts the app on a free loopback port; returns the port. */
export async function listenOnLoopback(app: FastifyInstance): Promise<number> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  if (typeof address !== 'object' || address === null) throw new Error('no address')
  return address.port
}

function parse(raw: string): Pick<RawAnswer, 'status' | 'headers' | 'body'> {
  const end = raw.indexOf('\r\n\r\n')
  const head = end < 0 ? raw : raw.slice(0, end)
  const [statusLine = '', ...lines] = head.split('\r\n')
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  return { status: Number(statusLine.split(' ')[1] ?? 0), headers, body: end < 0 ? '' : raw.slice(end + 4) }
}

/**
 * Opens a connection, lets `send` write to it (at its own pace), and collects the answer until
 * the server closes the connection or `giveUpMs` passes.
 */
export async function rawExchange(
  port: number,
  send: (socket: Socket, answered: () => boolean) => Promise<void> | void,
  giveUpMs = 10_000,
): Promise<RawAnswer> {
  const socket = connect(port, '127.0.0.1')
  socket.on('error', () => undefined)
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  const started = performance.now()
  const chunks: Buffer[] = []
  let closed = false
  const done = new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.once('close', () => {
      closed = true
      resolve()
    })
    setTimeout(resolve, giveUpMs).unref()
  })
  void Promise.resolve(send(socket, () => chunks.length > 0 || closed)).catch(() => undefined)
  await done
  const elapsedMs = performance.now() - started
  socket.destroy()
  const raw = Buffer.concat(chunks).toString('latin1')
  return { ...parse(raw), raw, closed, elapsedMs }
}

/** Writes `text` in one go. */
export function rawRequest(port: number, text: string | Buffer, giveUpMs?: number): Promise<RawAnswer> {
  return rawExchange(
    port,
    (socket) => {
      socket.write(text)
    },
    giveUpMs,
  )
}
