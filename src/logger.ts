import pino, { type Bindings, type ChildLoggerOptions, type DestinationStream, type Logger } from 'pino'
import type { FastifyBaseLogger } from 'fastify'

/** Names under which a secret could ride into a log line, at the top level or one level down. */
const secretNames = [
  'password',
  'newPassword',
  'code',
  'session',
  'token',
  'twoFactorToken',
  'secret',
  'otpauthUri',
  'qrCode',
  'recoveryCodes',
  'authorization',
]

/** pino replaces these paths before writing; whole params and bodies never reach a line. */
export const redactedPaths = [
  ...secretNames,
  ...secretNames.map((name) => `*.${name}`),
  'req.headers.authorization',
  'req.headers.cookie',
  'params',
  'body',
]

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: redactedPaths, censor: '[redacted]' }, base: { service: 'latchkey' } }
  return destination === undefined ? pino(options) : pino(options, destination)
}

type LogArgs = Parameters<FastifyBaseLogger['info']>

/**
 * Fastify gives every request a child logger; binding (and redacting) its request id costs a few
 * per cent of the hot path, and almost no request writes a line. This child is made on first use.
 */
class LazyChildLogger implements FastifyBaseLogger {
  #child: FastifyBaseLogger | undefined

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  private get real(): FastifyBaseLogger {
    this.#child ??= this.parent.child(this.bindings, this.options)
    return this.#child
  }

  get level(): string {
    return this.#child?.level ?? this.parent.level
  }

  set level(level: string) {
    this.real.level = level
  }

  fatal(...args: LogArgs): void {
    this.real.fatal(...args)
  }
  error(...args: LogArgs): void {
    this.real.error(...args)
  }
  warn(...args: LogArgs): void {
    this.real.warn(...args)
  }
  info(...args: LogArgs): void {
    this.real.info(...args)
  }
  debug(...args: LogArgs): void {
    this.real.debug(...args)
  }
  trace(...args: LogArgs): void {
    this.real.trace(...args)
  }
  silent(...args: LogArgs): void {
    this.real.silent(...args)
  }
  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.real.child(bindings, options)
  }
}

export const lazyChildLogger = (
  parent: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger => new LazyChildLogger(parent, bindings, options)
