/**
 * The per-call store budget (STORE_TIMEOUT_MS): within one call, the time spent waiting on
 * Postgres or Redis adds up (overlapping waits count once) and may not pass the budget. A wait
 * that would pass it ends at once with StoreUnavailableError (UNAVAILABLE); once it is spent,
 * every further store call of that call fails the same way without being sent.
 *
 * Only store waits count: a bcrypt hash queued behind others under load is not an outage, and
 * time spent after the last store call (a write that has committed) can never turn into an
 * error. A wait cut short may still complete on the server (the reply was lost, or came late);
 * the drivers' own timeouts (pg statement/query timeouts, ioredis commandTimeout) are set to the
 * same budget so such work is also abandoned there where it can be.
 */
import { StoreUnavailableError } from '../errors.js'
import type { Stores } from './ports/index.js'
import { callMethod, methodNames } from './members.js'

export type Backend = 'postgres' | 'redis'

/** Which server each store waits on (the embedded adapters stand in for the same two); typed so a new store must be listed. */
const backends: Readonly<Record<Exclude<keyof Stores, 'ping' | 'close'>, Backend>> = {
  accounts: 'postgres',
  audit: 'postgres',
  twoFactor: 'postgres',
  tokens: 'postgres',
  sessions: 'redis',
  pendingSignIns: 'redis',
  enrolments: 'redis',
  limits: 'redis',
  tokenCache: 'redis',
}

export class StoreBudgetSpentError extends Error {
  constructor(budgetMs: number) {
    super(`the call's store budget of ${budgetMs} ms is spent`)
    this.name = 'StoreBudgetSpentError'
  }
}

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
}

export class StoreBudget {
  private spentMs = 0
  private pending = 0
  private waitingSince = 0

  constructor(
    readonly budgetMs: number,
    private readonly clockMs: () => number = () => performance.now(),
  ) {}

  /** Milliseconds of store waiting this call may still do. */
  remainingMs(): number {
    const running = this.pending > 0 ? this.clockMs() - this.waitingSince : 0
    return this.budgetMs - this.spentMs - running
  }

  /** Waits for `work` at most for what is left of the budget. */
  track<T>(backend: Backend, work: Promise<T>): Promise<T> {
    const remaining = this.remainingMs()
    if (remaining <= 0) {
      work.catch(() => undefined)
      return Promise.reject(this.spent(backend))
    }
    this.begin()
    return new Promise<T>((resolve, reject) => {
      let done = false
      const finish = () => {
        if (done) return false
        done = true
        this.end()
        return true
      }
      const timer = setTimeout(() => {
        if (finish()) reject(this.spent(backend))
      }, remaining)
      work.then(
        (value) => {
          clearTimeout(timer)
          if (finish()) resolve(value)
        },
        (error: unknown) => {
          clearTimeout(timer)
          if (finish()) reject(error)
        },
      )
    })
  }

  private spent(backend: Backend): StoreUnavailableError {
    return new StoreUnavailableError(backend, { cause: new StoreBudgetSpentError(this.budgetMs) })
  }

  private begin(): void {
    if (this.pending === 0) this.waitingSince = this.clockMs()
    this.pending++
  }

  private end(): void {
    this.pending--
    if (this.pending === 0) this.spentMs += this.clockMs() - this.waitingSince
  }
}

const budgetOf = Symbol('budget')

/**
 * A class whose instances are `store` as one call sees it: every method that returns a promise
 * waits on that call's budget. Made once per store; a call's view is one small object, with no
 * Proxy and no closure per call (this runs on every request). Methods are looked up on `store`
 * at each call, so a method replaced later (a fault test) is the one called.
 */
function viewOf<S extends object>(store: S, backend: Backend): (budget: StoreBudget) => S {
  class View {
    readonly [budgetOf]: StoreBudget
    constructor(budget: StoreBudget) {
      this[budgetOf] = budget
    }
  }
  for (const name of methodNames(store)) {
    Object.defineProperty(View.prototype, name, {
      value(this: View, ...args: unknown[]): unknown {
        const result = callMethod(store, name, args)
        return isPromise(result) ? this[budgetOf].track(backend, result) : result
      },
    })
  }
  return (budget) => new View(budget) as unknown as S
}

type StoreName = keyof typeof backends

/**
 * Made once for a set of stores: `(budget) => the stores as one call with that budget sees them`.
 * A call's stores are one object whose getters (on a prototype made here) give each store's view.
 */
export function budgetedStores(stores: Stores): (budget: StoreBudget) => Stores {
  class CallStores {
    readonly [budgetOf]: StoreBudget
    constructor(budget: StoreBudget) {
      this[budgetOf] = budget
    }
    ping() {
      return stores.ping()
    }
    close() {
      return stores.close()
    }
  }
  for (const name of Object.keys(backends) as StoreName[]) {
    const view = viewOf(stores[name], backends[name])
    Object.defineProperty(CallStores.prototype, name, {
      get(this: CallStores) {
        return view(this[budgetOf])
      },
    })
  }
  return (budget) => new CallStores(budget) as unknown as Stores
}
