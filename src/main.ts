import { setFlagsFromString } from 'node:v8'
import type { Logger } from 'pino'
import { loadConfig, type Config } from './config.js'
import { StoreUnavailableError } from './errors.js'
import { pgliteLocation, startPGliteCreation } from './store/postgres/pglite-create.js'
import type { Runtime } from './runtime.js'

/** Process entry: config → backends → app → listen; SIGTERM drains in-flight calls, then closes the stores. */
async function main(): Promise<void> {
  // Prisma's query compiler is WebAssembly; V8's optimising tier would compile it again on
  // background threads for ~60 MB more RSS, while the baseline tier is fast enough for its cold paths.
  setFlagsFromString('--liftoff-only')
  let config: Config
  try {
    config = loadConfig()
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error))
    process.exit(2)
  }
  // Embedded mode's first start creates its database in a child process (seconds of WebAssembly):
  // it starts now, and the rest of the service is loaded while it runs.
  if (config.DATABASE_URL === undefined) startPGliteCreation(pgliteLocation(config.DATA_DIR))
  const [{ createLogger }, { buildApp }, { openRuntime }, { listenMetrics }] = await Promise.all([
    import('./logger.js'),
    import('./app.js'),
    import('./runtime.js'),
    import('./metrics-server.js'),
  ])
  const log = createLogger(config.LOG_LEVEL)
  const runtime = await openRuntimeWhenReachable(config, log, openRuntime)
  const app = buildApp({ services: runtime.services, logger: log })
  await app.listen({ port: config.PORT, host: config.HOST })
  log.info(`latchkey listening on ${config.HOST}:${config.PORT}; ${runtime.description}`)
  const metricsHost = config.METRICS_HOST ?? config.HOST
  const metricsServer =
    config.METRICS_PORT === 0 ? null : await listenMetrics(runtime.metrics.registry, metricsHost, config.METRICS_PORT)
  if (metricsServer !== null) log.info(`metrics on http://${metricsHost}:${config.METRICS_PORT}/metrics`)

  let closing = false
  const shutdown = (signal: string) => {
    if (closing) return
    closing = true
    log.info({ signal }, 'shutting down: no new connections, finishing calls in flight')
    const force = setTimeout(() => {
      log.error('in-flight calls did not finish in time; exiting')
      process.exit(1)
    }, config.SHUTDOWN_GRACE_SECONDS * 1000)
    force.unref()
    // Keep-alive connections that finish their last call go idle only after close() began; Node
    // closed the idle ones once, so keep closing them or close() would wait for their timeout.
    const closeIdle = setInterval(() => app.server.closeIdleConnections(), 100)
    closeIdle.unref()
    metricsServer?.close()
    app
      .close()
      .then(() => runtime.close())
      .then(() => {
        log.info('stopped')
        process.exit(0)
      })
      .catch((error: unknown) => {
        log.error({ err: error }, 'error while shutting down')
        process.exit(1)
      })
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
}

/**
 * Starting before Postgres is up (a deploy racing its database) is normal: wait for it with
 * capped backoff instead of exiting, so the service comes up by itself when the store does.
 */
async function openRuntimeWhenReachable(
  config: Config,
  log: Logger,
  openRuntime: (config: Config, log: Logger) => Promise<Runtime>,
): Promise<Runtime> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await openRuntime(config, log)
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error
      const waitMs = Math.min(500 * 2 ** (attempt - 1), 5_000)
      log.warn(
        { store: error.message, attempt, retryInMs: waitMs },
        'a backing store is unreachable at start; retrying',
      )
      await new Promise((resolve) => setTimeout(resolve, waitMs))
    }
  }
}

main().catch((error: unknown) => {
  console.error('latchkey failed to start:', error instanceof Error ? error.message : String(error))
  process.exit(1)
})
