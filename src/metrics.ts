import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/** What the service counts; the pipeline records every call, the few domain events are named here. */
export interface Metrics {
  /** One finished call: `outcome` is `ok` or the reason. */
  recordCall(method: string, outcome: string, seconds: number): void
  /** A call refused by a rate limit; `rule` names which (`signin`, `second_factor_lock`, …). */
  rateLimited(rule: string): void
  /** An account's second factor locked after repeated wrong codes. */
  twoFactorLocked(): void
  /** A wrong password: a failed SignIn or a failed ★ confirmation. */
  signInFailed(): void
}

export interface MetricsRegistry extends Metrics {
  readonly registry: Registry
}

// Latency buckets around the bcrypt-dominated calls (tens of ms) and the cached hot path (< 1 ms).
const durationBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

/**
 * A registry of latchkey's metrics. Histogram children are bound once per method and cached; call
 * counts are kept in maps until a scrape reads them.
 */
export function createMetrics(options: {
  methods: readonly string[]
  /** Whether each store answers, asked at scrape time. */
  storesUp: () => Promise<{ postgres: boolean; redis: boolean }>
  /** Process metrics (CPU, memory, event loop, GC): only for a served registry, as they start observers. */
  processMetrics: boolean
}): MetricsRegistry {
  const registry = new Registry()
  // Calls are counted in plain numbers and added to the counter when it is read (a scrape): going
  // through prom-client costs a label check and hash per call, and every call of the hot path passes here.
  const uncounted = new Map<string, Map<string, number>>()
  new Counter({
    name: 'latchkey_calls_total',
    help: 'Calls by method and outcome (ok or the error reason).',
    labelNames: ['method', 'outcome'] as const,
    registers: [registry],
    collect() {
      for (const [method, byOutcome] of uncounted)
        for (const [outcome, count] of byOutcome) {
          if (count === 0) continue
          this.inc({ method, outcome }, count)
          byOutcome.set(outcome, 0)
        }
    },
  })
  const duration = new Histogram({
    name: 'latchkey_call_duration_seconds',
    help: 'Call duration by method, from validation to the reply value.',
    labelNames: ['method'] as const,
    buckets: durationBuckets,
    registers: [registry],
  })
  const rateLimited = new Counter({
    name: 'latchkey_rate_limited_total',
    help: 'Calls refused by a rate limit, by rule.',
    labelNames: ['rule'] as const,
    registers: [registry],
  })
  const twoFactorLocks = new Counter({
    name: 'latchkey_2fa_locks_total',
    help: 'Second-factor locks started by repeated wrong codes.',
    registers: [registry],
  })
  const signInFailures = new Counter({
    name: 'latchkey_signin_failures_total',
    help: 'Wrong passwords: failed sign-ins and failed password confirmations.',
    registers: [registry],
  })
  new Gauge({
    name: 'latchkey_store_up',
    help: 'Whether a backing store answers (1) or not (0), checked at scrape time.',
    labelNames: ['store'] as const,
    registers: [registry],
    async collect() {
      const up = await options.storesUp().catch(() => ({ postgres: false, redis: false }))
      this.set({ store: 'postgres' }, up.postgres ? 1 : 0)
      this.set({ store: 'redis' }, up.redis ? 1 : 0)
    },
  })
  if (options.processMetrics) {
    collectDefaultMetrics({ register: registry })
    // prom-client names these gauges *_total, which promtool's lint refuses (a counter suffix).
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'])
      registry.removeSingleMetric(name)
  }

  // Method names come from clients: only the table's names become label values.
  const unknownMethod = 'unknown'
  const known = new Set(options.methods)
  const durationOf = new Map<string, Histogram.Internal<'method'>>()
  const limitedBy = new Map<string, Counter.Internal>()

  return {
    registry,
    recordCall(method, outcome, seconds) {
      const name = known.has(method) ? method : unknownMethod
      let timer = durationOf.get(name)
      if (timer === undefined) {
        timer = duration.labels(name)
        durationOf.set(name, timer)
      }
      timer.observe(seconds)
      let byOutcome = uncounted.get(name)
      if (byOutcome === undefined) {
        byOutcome = new Map()
        uncounted.set(name, byOutcome)
      }
      byOutcome.set(outcome, (byOutcome.get(outcome) ?? 0) + 1)
    },
    rateLimited(rule) {
      let counter = limitedBy.get(rule)
      if (counter === undefined) {
        counter = rateLimited.labels(rule)
        limitedBy.set(rule, counter)
      }
      counter.inc()
    },
    twoFactorLocked() {
      twoFactorLocks.inc()
    },
    signInFailed() {
      signInFailures.inc()
    },
  }
}
