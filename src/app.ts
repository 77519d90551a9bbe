import Fastify, { LogController, type FastifyBaseLogger, type FastifyBodyParser, type FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { lazyChildLogger } from './logger.js'
import type { Config } from './config.js'
import { traceContext } from './trace.js'
import type { Services } from './services.js'
import { Invoker } from './rpc/invoke.js'
import { methodTable } from './rpc/methods.js'
import { registerJsonRpc } from './rpc/json-rpc.js'
import { registerHttpApi } from './rpc/http.js'
import { genReqId, requestIdHeader, requestIdLogLabel } from './rpc/request-id.js'
import {
  clientErrorHandler,
  errorHandler,
  frameworkErrors,
  notFoundHandler,
  refuseWhileClosing,
} from './rpc/refusals.js'
import { registerCallLimits } from './rpc/call-limits.js'
import { registerAccountPage } from './account-page.js'

export interface AppOptions {
  services: Services
  logger: Logger
}

/** Fastify's `trustProxy` from its environment spelling. */
export function trustProxyValue(value: string): boolean | string | ((address: string, hop: number) => boolean) {
  if (value === 'true') return true
  if (value === 'false' || value === '') return false
  if (!/^\d+$/.test(value)) return value
  const hops = Number(value)
  return (_address, hop) => hop < hops
}

/**
 * Node's HTTP time limits from REQUEST_TIMEOUT_SECONDS and KEEP_ALIVE_SECONDS. Node looks for
 * overdue requests only every `connectionsCheckingInterval` (30 s by default), which would let a
 * slow request live up to twice its limit; a quarter of the limit (at most a second) keeps the cut close.
 */
export function httpTimeouts(config: Config) {
  const requestTimeout = config.REQUEST_TIMEOUT_SECONDS * 1000
  return {
    requestTimeout,
    keepAliveTimeout: config.KEEP_ALIVE_SECONDS * 1000,
    // A socket silent this long (in either direction) is dead whatever it was doing.
    connectionTimeout: requestTimeout * 2,
    http: {
      headersTimeout: requestTimeout,
      requestTimeout,
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(requestTimeout / 4))),
    },
  }
}

/** The HTTP face of the service. Tests build one per case and talk to it with `inject()`. */
export function buildApp({ services, logger }: AppOptions): FastifyInstance {
  const { config } = services
  const rootLogger = logger as FastifyBaseLogger
  const app = Fastify({
    // Fastify gets no logger of its own: with one it times every response and listens for its end
    // to log it, work the hot path pays on every request for lines that are turned off (one line per
    // request would halve throughput; security events and errors are logged instead). Each request
    // still gets `request.log`, a child of ours carrying its request id (and a W3C traceparent's ids).
    logger: false,
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel }),
    childLoggerFactory: (_parent, bindings, options, raw) => {
      const trace = traceContext(raw)
      return lazyChildLogger(rootLogger, trace === null ? bindings : { ...bindings, ...trace }, options)
    },
    genReqId,
    trustProxy: trustProxyValue(config.TRUST_PROXY),
    bodyLimit: config.BODY_LIMIT_BYTES,
    // Fastify's own 503 while closing has its own body; refuseWhileClosing answers in contract shape.
    return503OnClosing: false,
    ...httpTimeouts(config),
    clientErrorHandler: clientErrorHandler(rootLogger),
    frameworkErrors,
  })

  // Both transports read raw text so that bad JSON gets the contract's answer, whatever the content type.
  // application/json is named too: Fastify caches the parser it finds for an exact type, but
  // re-parses the header on every request that falls through to the catch-all.
  app.removeAllContentTypeParsers()
  const rawText: FastifyBodyParser<string> = (_request, body, done) => done(null, body)
  app.addContentTypeParser('application/json', { parseAs: 'string' }, rawText)
  app.addContentTypeParser('*', { parseAs: 'string' }, rawText)

  let closing = false
  app.addHook('preClose', (done) => {
    closing = true
    done()
  })
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('cache-control', 'no-store').header(requestIdHeader, request.id)
    if (closing) {
      refuseWhileClosing(request, reply)
      return
    }
    done()
  })

  app.setErrorHandler(errorHandler(config.BODY_LIMIT_BYTES))
  app.setNotFoundHandler(notFoundHandler)

  const invoker = new Invoker(methodTable, services, registerCallLimits(app, services))
  registerJsonRpc(app, invoker, config.BATCH_LIMIT)
  registerHttpApi(app, invoker)

  if (config.ACCOUNT_PAGE_ENABLED) registerAccountPage(app, rootLogger)

  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/readyz', async (_request, reply) => {
    const backends = await services.stores.ping()
    const ready = backends.postgres && backends.redis
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', ...backends })
  })

  return app
}
