import pino, { type DestinationStream, type Logger } from 'pino'

/** Every path where a secret could ride into a log line; pino replaces them before writing. */
export const redactedPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  '*.password',
  '*.newPassword',
  '*.code',
  '*.session',
  '*.token',
  '*.twoFactorToken',
  '*.secret',
  '*.otpauthUri',
  '*.qrCode',
  '*.recoveryCodes',
  'params',
  'body',
]

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: redactedPaths, censor: '[redacted]' }, base: { service: 'latchkey' } }
  return destination === undefined ? pino(options) : pino(options, destination)
}
