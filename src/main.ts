import { setFlagsFromString } from 'node:v8'
import { loadConfig } from './config.js'
import { createLogger } from './logger.js'
import { buildApp } from './app.js'
import { openRuntime } from './runtime.js'

/** Process entry: config → backends → app → listen; SIGTERM drains in-flight calls, then closes the stores. */
async function main(): Promise<void> {
  // Prisma's query compiler is WebAssembly; V8's optimising tier would compile it again on
  // background threads for ~60 MB more RSS, while the baseline tier is fast enough for its cold paths.
  setFlagsFromString('--liftoff-only')
  let config
  try {
    config = loadConfig()
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error))
    process.exit(2)
  }
  const log = createLogger(config.LOG_LEVEL)
  const runtime = await openRuntime(config, log)
  const app = buildApp({ services: runtime.services, logger: log })
  await app.listen({ port: config.PORT, host: config.HOST })
  log.info(`latchkey listening on ${config.HOST}:${config.PORT}; ${runtime.description}`)

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

main().catch((error: unknown) => {
  console.error('latchkey failed to start:', error instanceof Error ? error.message : String(error))
  process.exit(1)
})
