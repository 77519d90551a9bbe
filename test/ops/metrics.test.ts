/**
 * /metrics on its own listener of the real process: the contract's metric names, valid for
 * `promtool check metrics`, and never on the public port. Calls, refusals and a traceparent go
 * through the public port first, so the counters have something to show.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import {
  createProcessBacking,
  spawnService,
  stopProcess,
  untilReady,
  type ServiceProcess,
} from '../support/service-process.js'
import { eventually, freePort } from '../support/calls.js'

let service: ServiceProcess | null = null
let release: () => Promise<void> = async () => {}
let base = ''
let metricsUrl = ''

const post = (method: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}/api/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })

before(async () => {
  const backing = await createProcessBacking()
  release = backing.release
  const port = await freePort()
  const metricsPort = await freePort()
  service = spawnService({
    databaseUrl: backing.databaseUrl,
    redisPrefix: backing.redisPrefix,
    port,
    env: { METRICS_PORT: String(metricsPort), METRICS_HOST: '127.0.0.1', SIGNIN_MAX_PER_LOGIN_IP: '2' },
  })
  base = `http://127.0.0.1:${port}`
  metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`
  await untilReady(base, service, 30_000, 'the service to become ready')
})

after(async () => {
  await stopProcess(service?.child)
  await release()
})

async function scrape(): Promise<string> {
  const reply = await fetch(metricsUrl)
  assert.equal(reply.status, 200)
  assert.match(reply.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
  return reply.text()
}

/** The value of one sample line, e.g. `latchkey_calls_total{method="SignIn",outcome="ok"}`. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? 0 : Number(line.slice(series.length + 1))
}

test('calls, refusals and store health are counted, and promtool accepts the page', async () => {
  const login = `metrics${randomBytes(4).toString('hex')}@example.com`
  const password = `Tr0ub4dor&${randomBytes(6).toString('hex')}`
  assert.equal((await post('SignUp', { login, password })).status, 200)
  assert.equal((await post('SignIn', { login, password })).status, 200)
  for (let i = 0; i < 2; i++) assert.equal((await post('SignIn', { login, password: 'wrong-password-9' })).status, 401)
  assert.equal((await post('SignIn', { login, password: 'wrong-password-9' })).status, 429)
  assert.equal((await post('NoSuchMethod', {})).status, 404)

  const text = await scrape()
  assert.equal(sample(text, 'latchkey_calls_total{method="SignUp",outcome="ok"}'), 1)
  assert.equal(sample(text, 'latchkey_calls_total{method="SignIn",outcome="ok"}'), 1)
  assert.equal(sample(text, 'latchkey_calls_total{method="SignIn",outcome="INVALID_CREDENTIALS"}'), 2)
  assert.equal(sample(text, 'latchkey_calls_total{method="SignIn",outcome="RATE_LIMITED"}'), 1)
  // A client-chosen method name never becomes a label value.
  assert.ok(!text.includes('NoSuchMethod'))
  assert.equal(sample(text, 'latchkey_call_duration_seconds_count{method="SignIn"}'), 4)
  assert.ok(sample(text, 'latchkey_call_duration_seconds_sum{method="SignIn"}') > 0)
  assert.equal(sample(text, 'latchkey_rate_limited_total{rule="signin"}'), 1)
  assert.equal(sample(text, 'latchkey_signin_failures_total'), 2)
  assert.match(text, /^# TYPE latchkey_2fa_locks_total counter$/m)
  assert.equal(sample(text, 'latchkey_store_up{store="postgres"}'), 1)
  assert.equal(sample(text, 'latchkey_store_up{store="redis"}'), 1)
  // Process defaults.
  assert.match(text, /^process_resident_memory_bytes \d/m)
  assert.match(text, /^nodejs_eventloop_lag_seconds /m)

  const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })
  assert.equal(promtool.error, undefined, 'promtool is installed (Debian package prometheus)')
  assert.equal(promtool.status, 0, `promtool check metrics: ${promtool.stdout}${promtool.stderr}`)
})

test('the public port never serves /metrics; the metrics port serves nothing else', async () => {
  for (const method of ['GET', 'POST']) {
    const reply = await fetch(`${base}/metrics`, { method })
    assert.equal(reply.status, 404, `${method} /metrics on the public port`)
    assert.ok(!(await reply.text()).includes('latchkey_calls_total'))
  }
  assert.equal((await fetch(metricsUrl.replace('/metrics', '/readyz'))).status, 404)
  assert.equal((await fetch(metricsUrl, { method: 'POST' })).status, 404)
})

test('a W3C traceparent puts its trace id on the request’s log lines; a malformed one is ignored', async () => {
  const traceId = randomBytes(16).toString('hex')
  const spanId = randomBytes(8).toString('hex')
  const headers = { traceparent: `00-${traceId}-${spanId}-01` }
  // A wrong password writes an info line ("call refused") from the request's logger.
  await post('SignIn', { login: 'nobody-traced@example.com', password: 'wrong-password-7' }, headers)
  const bad = randomBytes(16).toString('hex')
  await post(
    'SignIn',
    { login: 'nobody-traced2@example.com', password: 'wrong-password-7' },
    {
      traceparent: `00-${bad}-0000000000000000-01`,
    },
  )
  const running = service
  assert.ok(running !== null)
  await eventually(async () => running.output().includes(traceId), 5_000, 'the traced log line')
  const line = running
    .output()
    .split('\n')
    .find((l) => l.includes(traceId))
  const parsed = JSON.parse(line ?? '{}') as Record<string, unknown>
  assert.equal(parsed['traceId'], traceId)
  assert.equal(parsed['spanId'], spanId)
  assert.equal(parsed['msg'], 'call refused')
  assert.ok(!running.output().includes(bad), 'an all-zero parent id makes the header invalid')
})
