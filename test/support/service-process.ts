import { spawn, type ChildProcess } from 'node:child_process'
import { generateKeyMaterial } from '../../src/crypto/keyring.js'
import { testRedisUrl } from './redis.js'

export interface ServiceProcess {
  child: ChildProcess
  /** Everything the process wrote so far, stdout and stderr. */
  output(): string
}

/**
 * The real process (src/main.ts) as production runs it: real backends mandatory, nothing
 * embedded can stand in. `env` adds or overrides settings.
 */
export function spawnService(options: {
  databaseUrl: string
  redisPrefix: string
  port: number
  env?: Record<string, string>
}): ServiceProcess {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    DATABASE_URL: options.databaseUrl,
    REDIS_URL: testRedisUrl,
    REDIS_KEY_PREFIX: options.redisPrefix,
    SECRETS_KEY: generateKeyMaterial(),
    BCRYPT_COST: '4',
    PORT: String(options.port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    METRICS_PORT: '0',
    ...options.env,
  }
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const collect = (chunk: Buffer) => {
    output += chunk.toString()
  }
  child.stdout?.on('data', collect)
  child.stderr?.on('data', collect)
  return { child, output: () => output }
}
