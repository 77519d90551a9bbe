/**
 * The HTTP layer's own refusals in contract shape: a malformed request, a request too slow to
 * arrive (408), a URL or headers too large (414/431), a body too large (413), an unknown path
 * (404), a wrong HTTP method (405). Each carries `Cache-Control: no-store`, an `X-Request-Id` and
 * the error body of its transport; none repeats the path or a header value.
 */
import { STATUS_CODES, maxHeaderSize, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { ConnectionError, FastifyBaseLogger, FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { AppError } from '../errors.js'
import { errorBody, httpStatusOf, transportOf, type Transport } from './envelope.js'
import { requestIdFrom, requestIdHeader, requestIdLogLabel } from './request-id.js'

interface Refusal {
  status: number
  error: AppError
}

const unreadable = (): Refusal => ({
  status: 400,
  error: new AppError('INVALID_REQUEST', 'The request could not be read as HTTP.'),
})

/** The HTTP methods a known path answers; undefined for unknown paths (404). */
function allowedMethods(path: string): string | undefined {
  if (path === '/rpc' || /^\/api\/[^/]+$/.test(path)) return 'POST'
  if (path === '/healthz' || path === '/readyz') return 'GET, HEAD'
  return undefined
}

function pathOf(url: string): string {
  return url.split('?', 1)[0] ?? ''
}

function send(request: FastifyRequest, reply: FastifyReply, { status, error }: Refusal): FastifyReply {
  // Hooks may not have run (framework errors), so the headers every reply carries are set here too.
  return reply
    .code(status)
    .header('cache-control', 'no-store')
    .header(requestIdHeader, request.id)
    .type('application/json; charset=utf-8')
    .send(errorBody(transportOf(request.url), error))
}

/** A request that arrives while the server drains for shutdown: retry elsewhere (UNAVAILABLE), connection closes. */
export function refuseWhileClosing(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  reply.header('connection', 'close')
  const unavailable = new AppError('UNAVAILABLE', 'The service is shutting down; nothing was changed, retry.')
  return send(request, reply, { status: httpStatusOf(unavailable), error: unavailable })
}

/** Unknown paths: 405 with `Allow` where the path exists for another HTTP method, else 404. */
export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const allow = allowedMethods(pathOf(request.url))
  if (allow !== undefined) {
    reply.header('allow', allow)
    return send(request, reply, {
      status: 405,
      error: new AppError('INVALID_REQUEST', `This endpoint answers only ${allow}.`),
    })
  }
  return send(request, reply, { status: 404, error: new AppError('METHOD_NOT_FOUND', 'No such endpoint.') })
}

/** Errors that escape the transports: Fastify's body reading (413, bad content-length) and bugs (500). */
export function errorHandler(bodyLimitBytes: number) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const status = error.statusCode
    if (status === 413)
      return send(request, reply, {
        status: 413,
        error: new AppError('INVALID_REQUEST', `The body is larger than ${bodyLimitBytes} bytes.`),
      })
    if (status === 408)
      return send(request, reply, {
        status: 408,
        error: new AppError('INVALID_REQUEST', 'The request did not arrive in time.'),
      })
    if (status !== undefined && status >= 400 && status < 500)
      return send(request, reply, {
        status: 400,
        error: new AppError('INVALID_REQUEST', 'The request could not be read.'),
      })
    request.log.error({ err: error }, 'unhandled error')
    const internal = new AppError('INTERNAL')
    return send(request, reply, { status: httpStatusOf(internal), error: internal })
  }
}

/** Fastify's router refusals (a bad percent-encoding, an over-long path parameter), which would echo the path. */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const refusal: Refusal =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? { status: 414, error: new AppError('INVALID_REQUEST', 'The URL is too long.') }
      : { status: 400, error: new AppError('INVALID_REQUEST', 'The URL could not be read.') }
  void send(request, reply, refusal)
}

/** What arrived before the parser gave up: enough to tell the transport, the request id and a 414 from a 431. */
interface Head {
  requestLine: string | undefined
  headers: string
}

function headOf(error: ConnectionError): Head {
  const raw: unknown = Reflect.get(error, 'rawPacket')
  const text = Buffer.isBuffer(raw) ? raw.subarray(0, 65536).toString('latin1') : ''
  const end = text.indexOf('\n')
  return end < 0 ? { requestLine: undefined, headers: '' } : { requestLine: text.slice(0, end), headers: text }
}

function classify(error: ConnectionError, head: Head): Refusal {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: 408,
        error: new AppError('INVALID_REQUEST', 'The request did not fully arrive within the time limit.'),
      }
    case 'HPE_HEADER_OVERFLOW':
      // The parser counts the request line as header bytes: when it alone takes half the limit, the URL is the problem.
      return head.requestLine === undefined || head.requestLine.length > maxHeaderSize / 2
        ? { status: 414, error: new AppError('INVALID_REQUEST', 'The URL is too long.') }
        : { status: 431, error: new AppError('INVALID_REQUEST', 'The request headers are too large.') }
    default:
      return unreadable()
  }
}

function transportFrom(requestLine: string | undefined): Transport {
  const target = requestLine?.split(' ')[1]
  return target === undefined ? 'api' : transportOf(target)
}

function headerValue(headers: string, name: string): string | undefined {
  const match = new RegExp(`\\r?\\n${name}:[ \\t]*([^\\r\\n]*)`, 'i').exec(headers)
  return match?.[1]?.trim()
}

/**
 * Node's HTTP parser refusals, before any routing: a malformed request, Transfer-Encoding with
 * Content-Length, headers or a URL over the limit, a request that did not arrive within
 * REQUEST_TIMEOUT_SECONDS. A well-formed response goes onto the socket, then the socket closes.
 */
export function clientErrorHandler(log: FastifyBaseLogger) {
  return (error: ConnectionError, socket: Socket): void => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return
    // A request already being handled (its body still arriving) knows its own URL and id.
    const response: unknown = Reflect.get(socket, '_httpMessage')
    const inFlight = typeof response === 'object' && response !== null ? (response as ServerResponse) : undefined
    const request: IncomingMessage | undefined = inFlight?.req
    const head = headOf(error)
    const requestId = requestIdFrom(request?.headers[requestIdHeader] ?? headerValue(head.headers, requestIdHeader))
    const transport = request?.url === undefined ? transportFrom(head.requestLine) : transportOf(request.url)
    const { status, error: refusal } = classify(error, head)
    log.debug({ [requestIdLogLabel]: requestId, code: error.code, status }, 'HTTP request refused')

    if (!socket.writable || inFlight?.headersSent === true) {
      socket.destroy()
      return
    }
    const body = JSON.stringify(errorBody(transport, refusal))
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
        'Content-Type: application/json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Cache-Control: no-store\r\n' +
        `X-Request-Id: ${requestId}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    )
    // Half-closed: the client reads the answer; whatever it still sends is drained, then the socket goes.
    socket.resume()
    setTimeout(() => socket.destroy(), 1000).unref()
  }
}
