import pino, { type DestinationStream, type Logger } from 'pino'

/** Names under which a secret could ride into a log line, at the top level or one level down. */
const secretNames = ['password', 'newPassword', 'code', 'session', 'token', 'twoFactorToken', 'secret', 'otpauthUri', 'qrCode', 'recoveryCodes', 'authorization']

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
