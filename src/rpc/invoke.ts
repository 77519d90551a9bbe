import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler'
import type { TObject, TSchema } from '@sinclair/typebox'
import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import { AppError, StoreUnavailableError, type Reason } from '../errors.js'
import type { Services } from '../services.js'
import { StoreBudget, budgetedStores } from '../store/budget.js'
import { withCrossStoreRules } from '../store/composed/index.js'
import { resolveCredential } from '../auth/resolve-credential.js'
import { confirmPassword } from '../auth/confirm-password.js'
import { apiListAllows } from '../domain/api-list.js'
import { credentialKind } from '../domain/credentials.js'
import { twoFactorSetupOverdue } from '../domain/two-factor-requirement.js'
import { adminApiEnabled } from '../auth/admin-keys.js'
import type { AdminCaller, AnyMethod, Caller, Origin } from './define-method.js'
import type { CallLimiter } from './call-limits.js'

/** One call as either transport hands it over. */
export interface Call {
  method: string
  /** Named params; undefined when absent. Anything else is refused. */
  params: unknown
  /** From `Authorization: Bearer …`; the `session` param is the fallback. */
  bearer: string | undefined
  origin: Origin
  /** The request's logger: its lines carry the request id. */
  log: FastifyBaseLogger
  /** The HTTP request the call came in (per-IP call limits key on it). */
  request?: FastifyRequest
  /** Calls of one HTTP request (a batch) resolve the same credential once. */
  credentials?: Map<string, Promise<Caller | AdminCaller>>
}

/**
 * Refusals worth an info line: each one cost a password or code check, so they cannot flood the
 * log. Refusals that cost nothing (unknown credentials, rate-limited calls) are debug lines, or a
 * flood of them would become a log flood. Successful checks are not logged (hot path).
 */
const securityReasons: ReadonlySet<Reason> = new Set(['INVALID_CREDENTIALS', 'INVALID_2FA_CODE', 'FORBIDDEN'])
const cheapRefusals: ReadonlySet<Reason> = new Set(['RATE_LIMITED', 'UNAUTHENTICATED'])

export type Outcome = { ok: true; result: unknown } | { ok: false; error: AppError }

interface CompiledMethod {
  method: AnyMethod
  check: TypeCheck<TObject>
  /** Property names the params schema declares, at any depth: the only names an error may repeat. */
  names: ReadonlySet<string>
}

function declaredNames(schema: TSchema, into = new Set<string>()): Set<string> {
  const properties: unknown = schema['properties']
  if (typeof properties === 'object' && properties !== null) {
    for (const [name, inner] of Object.entries(properties as Record<string, TSchema>)) {
      into.add(name)
      declaredNames(inner, into)
    }
  }
  const items: unknown = schema['items']
  if (typeof items === 'object' && items !== null) declaredNames(items as TSchema, into)
  for (const key of ['anyOf', 'oneOf', 'allOf']) {
    const options: unknown = schema[key]
    if (Array.isArray(options)) for (const option of options as TSchema[]) declaredNames(option, into)
  }
  return into
}

// A member name a client may plausibly have meant as a param: short, plain, not a credential.
const plainName = /^(?!lk[s2pa]_)[A-Za-z][A-Za-z0-9_]{0,31}$/

/**
 * An error path repeats declared names, array indexes and plain identifiers (a misspelt param
 * is worth naming); any other member name is the caller's input that could be a pasted
 * credential or password, so it is shown as `(unknown)`.
 */
function safePath(path: string, names: ReadonlySet<string>): string {
  if (path === '') return '/'
  return path
    .split('/')
    .map((segment, i) =>
      i === 0 || /^\d+$/.test(segment) || names.has(segment) || plainName.test(segment) ? segment : '(unknown)',
    )
    .join('/')
}

const noSuchMethod = () => new AppError('METHOD_NOT_FOUND', 'There is no such method.')

function withoutSession(raw: object): Record<string, unknown> {
  const { session: _, ...params } = raw as Record<string, unknown>
  return params
}

/** The one pipeline: validate → authenticate → authorize → confirm password → handle → map errors. */
export class Invoker {
  private readonly methods = new Map<string, CompiledMethod>()
  /** What a credential may still call while its account's 2FA setup is overdue, by credential kind. */
  private readonly duringTwoFactorSetup: Record<Caller['kind'], ReadonlySet<string>>
  private readonly budgetedStores: (budget: StoreBudget) => Services['stores']

  constructor(
    table: readonly AnyMethod[],
    private readonly services: Services,
    private readonly callLimiter?: CallLimiter,
  ) {
    this.budgetedStores = budgetedStores(services.stores)
    for (const method of table)
      this.methods.set(method.name, {
        method,
        check: TypeCompiler.Compile(method.params),
        names: declaredNames(method.params),
      })
    const allowed = table.filter((m) => m.allowedDuringTwoFactorSetup === true)
    this.duringTwoFactorSetup = {
      session: new Set(allowed.filter((m) => m.auth === 'session' || m.auth === 'any').map((m) => m.name)),
      token: new Set(allowed.filter((m) => m.auth === 'any').map((m) => m.name)),
    }
  }

  has(name: string): boolean {
    return this.methods.has(name)
  }

  async invoke(call: Call): Promise<Outcome> {
    const started = performance.now()
    const { metrics } = this.services
    try {
      const result = await this.run(call)
      metrics.recordCall(call.method, 'ok', (performance.now() - started) / 1000)
      return { ok: true, result }
    } catch (caught) {
      const error = this.toAppError(caught, call)
      metrics.recordCall(call.method, error.reason, (performance.now() - started) / 1000)
      // A wrong password confirmation counts as a failed sign-in (the contract's rule), so both show here.
      if (error.reason === 'INVALID_CREDENTIALS') metrics.signInFailed()
      else if (error.reason === 'RATE_LIMITED') metrics.rateLimited(error.rule ?? 'other')
      return { ok: false, error }
    }
  }

  private async run(call: Call): Promise<unknown> {
    const entry = this.methods.get(call.method)
    // The name is not repeated: it is the caller's input (a path segment on /api).
    if (entry === undefined) throw noSuchMethod()
    const { method, check, names } = entry
    // Counted before anything else, so even a malformed call costs its place.
    if (this.callLimiter !== undefined && call.request !== undefined)
      for (const limit of method.limits ?? []) await this.callLimiter(limit, call.request)

    // Absent params mean {}; a JSON null is refused like any other non-object.
    const raw = call.params === undefined ? {} : call.params
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new AppError('INVALID_PARAMS', 'Params must be a named object.', {
        errors: [{ field: '', message: 'must be an object' }],
      })
    }
    // `session` is a credential channel for header-less clients, not a param of any method. The
    // copy without it is made only when it is there (the hot path sends credentials in a header).
    const { session } = raw as Record<string, unknown>
    const params = session === undefined ? (raw as Record<string, unknown>) : withoutSession(raw)
    if (!check.Check(params)) {
      // TypeBox messages describe the schema, never the value; paths are cleaned of unknown names.
      const errors = [...check.Errors(params)]
        .slice(0, 10)
        .map((e) => ({ field: safePath(e.path, names), message: e.message }))
      throw new AppError(
        'INVALID_PARAMS',
        `Invalid params: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}.`,
        { errors },
      )
    }
    if (session !== undefined && typeof session !== 'string') {
      throw new AppError('INVALID_PARAMS', 'Invalid params: /session must be a string.', {
        errors: [{ field: '/session', message: 'must be a string' }],
      })
    }

    const services = this.callServices(call)
    const now = services.clock.now()
    const caller = await this.authorize(method, call.bearer ?? session, call, services, now)
    if (method.sensitive) {
      if (caller === null || caller.kind === 'admin')
        throw new Error(`${method.name} is sensitive but takes no account credential`)
      await confirmPassword(services, caller, String(params['password']), call.origin)
    }
    return method.handle({ params, caller, origin: call.origin, services, now })
  }

  /** The services as one call sees them: its own store budget, its request's logger. */
  private callServices(call: Call): Services {
    const budget = new StoreBudget(this.services.config.STORE_TIMEOUT_MS)
    const stores = withCrossStoreRules(this.budgetedStores(budget), call.log)
    return { ...this.services, stores, log: call.log }
  }

  private async authorize(
    method: AnyMethod,
    credential: string | undefined,
    call: Call,
    services: Services,
    now: Date,
  ): Promise<Caller | AdminCaller | null> {
    // A pending 2FA token may only ever complete the method that takes it as a param.
    if (method.auth === 'none') {
      if (credential?.startsWith('lk2_') && method.acceptsPendingToken !== true)
        throw new AppError('UNAUTHENTICATED', 'A pending two-factor token can only be used with Verify2FACode.')
      // An operator key calls admin methods only, none-methods included (an unknown one is UNAUTHENTICATED).
      if (credential !== undefined && credentialKind(credential) === 'admin') {
        await this.resolve(credential, call, services, now)
        throw operatorKeyRefused(method)
      }
      return null
    }
    if (method.auth === 'admin' && !adminApiEnabled(services.config))
      throw new AppError('FORBIDDEN', 'The admin API is off: ADMIN_API_KEYS lists no operator key.')
    if (credential === undefined)
      throw new AppError('UNAUTHENTICATED', 'This method needs a credential: Authorization: Bearer <session or token>.')
    const caller = await this.resolve(credential, call, services, now)
    if (caller.kind === 'admin') {
      if (method.auth !== 'admin') throw operatorKeyRefused(method)
      return caller
    }
    if (method.auth === 'admin')
      throw new AppError('FORBIDDEN', `${method.name} is an admin method: it takes an operator key (lka_…).`)
    if (caller.kind === 'token') {
      if (method.auth === 'session')
        throw new AppError('FORBIDDEN', `A personal access token cannot call ${method.name}; sign in for a session.`)
      if (method.ignoresApiList !== true && !apiListAllows(caller.apiList, method.name)) {
        throw new AppError('FORBIDDEN', `This token's apiList does not allow ${method.name}.`)
      }
    }
    if (!twoFactorSetupOverdue(caller, now.getTime())) return caller
    const restrictedTo = this.duringTwoFactorSetup[caller.kind]
    if (!restrictedTo.has(method.name)) {
      throw new AppError(
        'FORBIDDEN',
        caller.kind === 'session'
          ? 'An operator requires two-factor sign-in for this account and the deadline has passed: turn it on first (Get2FAConfig, then Enable2FA).'
          : 'An operator requires two-factor sign-in for this account and the deadline has passed: its tokens work again once it is on.',
        { twoFactorSetupRequired: true },
      )
    }
    // A copy: the resolved caller is shared by the calls of a batch.
    return { ...caller, restrictedTo }
  }

  private resolve(credential: string, call: Call, services: Services, now: Date): Promise<Caller | AdminCaller> {
    const memo = call.credentials
    const known = memo?.get(credential)
    if (known !== undefined) return known
    const resolving = resolveCredential(services, credential, call.origin, now)
    memo?.set(credential, resolving)
    return resolving
  }

  private toAppError(error: unknown, call: Call): AppError {
    const { method, log } = call
    if (error instanceof AppError) {
      if (securityReasons.has(error.reason))
        log.info({ method, reason: error.reason, ip: call.origin.ip }, 'call refused')
      else if (cheapRefusals.has(error.reason))
        log.debug({ method, reason: error.reason, ip: call.origin.ip }, 'call refused')
      return error
    }
    if (error instanceof StoreUnavailableError) {
      const cause = error.cause instanceof Error ? error.cause.message : undefined
      log.warn({ method, store: error.message, cause }, 'backing store unavailable')
      return new AppError('UNAVAILABLE')
    }
    log.error({ method, err: error }, 'unexpected error')
    return new AppError('INTERNAL')
  }
}

const operatorKeyRefused = (method: AnyMethod) =>
  new AppError('FORBIDDEN', `An operator key calls only admin methods, not ${method.name}.`)
