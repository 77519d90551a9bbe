// Every malformed setting is refused by name, with what it accepts and its default.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { describe, test } from 'node:test'
import { loadConfig, parseHostPorts } from '../../src/config.js'

function refused(env: Record<string, string>, ...expected: RegExp[]): string {
  let message = ''
  assert.throws(
    () => loadConfig(env),
    (error: unknown) => {
      assert.ok(error instanceof Error)
      message = error.message
      return true
    },
  )
  assert.ok(!message.includes('\n'), `one line: ${message}`)
  for (const pattern of expected) assert.match(message, pattern)
  return message
}

describe('config: bad values are refused with a precise message', () => {
  test('BCRYPT_COST outside 4–15', () => {
    for (const value of ['40', '3', '16', 'twelve', '12.5'])
      refused({ BCRYPT_COST: value }, /BCRYPT_COST must be an integer from 4 to 15 \(default: 12\)/)
    assert.equal(loadConfig({ BCRYPT_COST: '15' }).BCRYPT_COST, 15)
    assert.equal(loadConfig({ BCRYPT_COST: '4' }).BCRYPT_COST, 4)
  })

  test('ports 1–65535; METRICS_PORT also 0 (off)', () => {
    for (const value of ['70000', '0', '-1', 'http'])
      refused({ PORT: value }, /PORT must be an integer from 1 to 65535 \(default: 3000\)/)
    refused({ METRICS_PORT: '65536' }, /METRICS_PORT must be an integer from 0 to 65535 \(default: 9464\)/)
    assert.equal(loadConfig({ PORT: '65535' }).PORT, 65535)
    assert.equal(loadConfig({ METRICS_PORT: '0' }).METRICS_PORT, 0)
    assert.equal(loadConfig({}).METRICS_PORT, 9464)
  })

  test('LOG_LEVEL lists the pino levels', () => {
    refused(
      { LOG_LEVEL: 'verbose' },
      /LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent \(default: "info"\)/,
    )
    assert.equal(loadConfig({ LOG_LEVEL: 'debug' }).LOG_LEVEL, 'debug')
  })

  test('NODE_ENV is development, test or production', () => {
    refused({ NODE_ENV: 'prod' }, /NODE_ENV must be one of development, test, production \(default: "development"\)/)
    assert.equal(loadConfig({ NODE_ENV: 'test' }).NODE_ENV, 'test')
  })

  test('DATABASE_URL must be a postgres: or postgresql: URL', () => {
    for (const value of ['foo', 'mysql://db/x', 'postgres//db'])
      refused({ DATABASE_URL: value }, /DATABASE_URL must be a URL starting with postgres:\/\/ or postgresql:\/\//)
    assert.equal(loadConfig({ DATABASE_URL: 'postgresql://u:p@db:5432/x' }).DATABASE_URL, 'postgresql://u:p@db:5432/x')
  })

  test('the value itself is never echoed (it may hold a password)', () => {
    const message = refused({ DATABASE_URL: 'mysql://user:hunter2@db/x' }, /DATABASE_URL/)
    assert.ok(!message.includes('hunter2'), message)
  })

  test('REDIS_URL must be a redis: or rediss: URL', () => {
    for (const value of ['notaurl', 'http://cache:6379'])
      refused(
        { REDIS_URL: value },
        /REDIS_URL must be a URL starting with redis:\/\/ or rediss:\/\/ \(default: unset\)/,
      )
    assert.equal(loadConfig({ REDIS_URL: 'rediss://cache:6380' }).REDIS_URL, 'rediss://cache:6380')
  })

  test('REDIS_CLUSTER_NODES is a host:port list, and excludes REDIS_URL', () => {
    for (const value of ['cache', 'a:1,b', 'a:0', 'a:70000', 'redis://a:1', ','])
      refused({ REDIS_CLUSTER_NODES: value }, /REDIS_CLUSTER_NODES must be a comma-separated list of host:port/)
    assert.deepEqual(parseHostPorts('a:7000, 10.0.0.2:7001,[::1]:7002'), [
      { host: 'a', port: 7000 },
      { host: '10.0.0.2', port: 7001 },
      { host: '::1', port: 7002 },
    ])
    refused(
      { REDIS_URL: 'redis://a:1', REDIS_CLUSTER_NODES: 'a:7000' },
      /REDIS_URL and REDIS_CLUSTER_NODES are both set/,
    )
  })

  test('in production a cluster stands in for REDIS_URL', () => {
    const production = { NODE_ENV: 'production', DATABASE_URL: 'postgres://db/x', SECRETS_KEY: 'a2V5' }
    refused(production, /REDIS_URL \(or REDIS_CLUSTER_NODES\) must be set when NODE_ENV=production/)
    assert.equal(loadConfig({ ...production, REDIS_CLUSTER_NODES: 'a:7000' }).REDIS_CLUSTER_NODES, 'a:7000')
  })

  test('booleans and other integers name their range and default', () => {
    refused({ SIGNUP_ENABLED: 'yes please' }, /SIGNUP_ENABLED must be true or false \(default: true\)/)
    refused({ BATCH_LIMIT: '0' }, /BATCH_LIMIT must be an integer from 1 up \(default: 20\)/)
  })

  test('every bad setting is named in the same line', () => {
    refused({ PORT: '70000', BCRYPT_COST: '40', NODE_ENV: 'prod' }, /PORT/, /BCRYPT_COST/, /NODE_ENV/)
  })
})

describe('the process with a bad value', () => {
  for (const [name, value] of [
    ['BCRYPT_COST', '40'],
    ['DATABASE_URL', 'foo'],
    ['REDIS_URL', 'notaurl'],
  ] as const) {
    test(`${name}=${value}: exits 2 at once with one line naming it`, async () => {
      const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'development', PORT: '3999', [name]: value }
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let stderr = ''
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString()
      })
      const [code] = (await once(child, 'exit')) as [number | null]
      assert.equal(code, 2)
      const lines = stderr.trim().split('\n')
      assert.equal(lines.length, 1, stderr)
      assert.match(lines[0] ?? '', new RegExp(`^invalid configuration: ${name} must be`))
    })
  }
})
