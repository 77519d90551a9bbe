import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { lazyChildLogger } from './logger.js'
import { AppError, reasons } from './errors.js'
import type { Services } from './services.js'
import { Invoker } from './rpc/invoke.js'
import { methodTable } from './rpc/methods.js'
import { registerJsonRpc } from './rpc/json-rpc.js'
import { registerHttpApi, sendApiError } from './rpc/http.js'

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

/** The HTTP face of the service. Tests build one per case and talk to it with `inject()`. */
export function buildApp({ services, logger }: AppOptions): FastifyInstance {
  const { config } = services
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // One line per request would halve throughput; security events and errors are logged instead.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyChildLogger,
    trustProxy: trustProxyValue(config.TRUST_PROXY),
    bodyLimit: config.BODY_LIMIT_BYTES,
    return503OnClosing: true,
  })

  // Both transports read raw text so that bad JSON gets the contract's answer, whatever the content type.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body))

  app.addHook('onRequest', (_request, reply, done) => {
    reply.header('cache-control', 'no-store')
    done()
  })

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const tooLarge = error.statusCode === 413
    const appError = tooLarge
      ? new AppError('INVALID_REQUEST', `The body is larger than ${config.BODY_LIMIT_BYTES} bytes.`)
      : error.statusCode !== undefined && error.statusCode < 500
        ? new AppError('INVALID_REQUEST', 'The request could not be read.')
        : new AppError('INTERNAL')
    if (!tooLarge && appError.reason === 'INTERNAL') request.log.error({ err: error }, 'unhandled error')
    const status = tooLarge ? 413 : reasons[appError.reason].httpStatus
    if (request.url === '/rpc') {
      return reply.code(status).send({
        jsonrpc: '2.0',
        id: null,
        error: { code: reasons[appError.reason].rpcCode, message: appError.message, data: appError.data },
      })
    }
    return sendApiError(reply, appError, status)
  })

  app.setNotFoundHandler((_request, reply) =>
    sendApiError(reply, new AppError('METHOD_NOT_FOUND', 'No such endpoint.')),
  )

  const invoker = new Invoker(methodTable, services)
  registerJsonRpc(app, invoker, config.BATCH_LIMIT)
  registerHttpApi(app, invoker)

  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/readyz', async (_request, reply) => {
    const backends = await services.stores.ping()
    const ready = backends.postgres && backends.redis
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', ...backends })
  })

  return app
}
