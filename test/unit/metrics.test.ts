// The metrics registry on its own: names, labels, the unknown-method guard and store_up at scrape time.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { createMetrics } from '../../src/metrics.js'

test('calls, refusals and locks are counted under the contract names; store_up is asked at scrape time', async () => {
  let redisUp = true
  const metrics = createMetrics({
    methods: ['SignIn', 'GetSession'],
    storesUp: async () => ({ postgres: true, redis: redisUp }),
    processMetrics: false,
  })
  metrics.recordCall('SignIn', 'ok', 0.02)
  metrics.recordCall('SignIn', 'INVALID_CREDENTIALS', 0.03)
  metrics.recordCall('SignIn', 'INVALID_CREDENTIALS', 0.03)
  metrics.recordCall('rpc.evil"name', 'METHOD_NOT_FOUND', 0.0001)
  metrics.rateLimited('signin')
  metrics.rateLimited('second_factor_lock')
  metrics.twoFactorLocked()
  metrics.signInFailed()
  const text = await metrics.registry.metrics()
  assert.match(text, /^latchkey_calls_total\{method="SignIn",outcome="ok"\} 1$/m)
  assert.match(text, /^latchkey_calls_total\{method="SignIn",outcome="INVALID_CREDENTIALS"\} 2$/m)
  assert.match(text, /^latchkey_calls_total\{method="unknown",outcome="METHOD_NOT_FOUND"\} 1$/m)
  assert.ok(!text.includes('evil'))
  assert.match(text, /^latchkey_call_duration_seconds_count\{method="SignIn"\} 3$/m)
  assert.match(text, /^latchkey_rate_limited_total\{rule="second_factor_lock"\} 1$/m)
  assert.match(text, /^latchkey_2fa_locks_total 1$/m)
  assert.match(text, /^latchkey_signin_failures_total 1$/m)
  assert.match(text, /^latchkey_store_up\{store="redis"\} 1$/m)
  redisUp = false
  assert.match(await metrics.registry.metrics(), /^latchkey_store_up\{store="redis"\} 0$/m)
})

test('the Grafana dashboard in docs/ only queries metrics the service exports', async () => {
  const dashboard = JSON.parse(readFileSync('docs/grafana-dashboard.json', 'utf8')) as {
    panels: Array<{ title: string; targets: Array<{ expr: string }> }>
  }
  const metrics = createMetrics({
    methods: ['SignIn'],
    storesUp: async () => ({ postgres: true, redis: true }),
    processMetrics: true,
  })
  const exported = new Set((await metrics.registry.getMetricsAsJSON()).map((m) => m.name))
  for (const panel of dashboard.panels)
    for (const { expr } of panel.targets) {
      const names = (expr.match(/\b(?:latchkey|process|nodejs)_[a-z0-9_]+/g) ?? []).map((n) =>
        n.replace(/_(bucket|sum|count)$/, ''),
      )
      assert.ok(names.length > 0, panel.title)
      for (const name of names) assert.ok(exported.has(name), `${panel.title}: ${name} is exported`)
    }
  metrics.registry.clear()
})
