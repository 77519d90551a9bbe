import type { Static, TObject, TSchema } from '@sinclair/typebox'
import type { Digest } from '../domain/credentials.js'
import type { Reason } from '../errors.js'
import type { Services } from '../services.js'

/**
 * `none`: no credential; `session`: a full session only; `any`: a session or a PAT whose apiList
 * allows the method; `admin`: an operator key (`lka_…`) only, and operator keys reach nothing else.
 */
export type AuthMode = 'none' | 'session' | 'any' | 'admin'

/**
 * Per-client-IP call limits the pipeline applies before anything else (rpc/call-limits.ts): each
 * call counts once, batched or not. `anonymous`: every method that takes no credential;
 * `signUp`: account creation.
 */
export type CallLimit = 'anonymous' | 'signUp'

export interface SessionCaller {
  kind: 'session'
  accountId: string
  login: string
  twoFactorEnabled: boolean
  /** Copied into the session; see TwoFactorState. */
  twoFactorRequiredBy: number | null
  /** Set by the pipeline while 2FA setup is overdue: the only methods this credential may call. */
  restrictedTo?: ReadonlySet<string>
  sessionId: string
  sessionDigest: Digest
  expiresAt: number
}

export interface TokenCaller {
  kind: 'token'
  accountId: string
  login: string
  twoFactorEnabled: boolean
  twoFactorRequiredBy: number | null
  restrictedTo?: ReadonlySet<string>
  tokenId: string
  apiList: string[] | null
  expiresAt: number | null
}

/** An account's credential. */
export type Caller = SessionCaller | TokenCaller

/** An operator key; it names no account. */
export interface AdminCaller {
  kind: 'admin'
  /** The key's name in ADMIN_API_KEYS, recorded with every change it makes. */
  keyName: string
}

/** Where the call came from; never holds the credential itself. */
export interface Origin {
  ip: string
  userAgent: string | null
}

export interface CallContext<P, A extends AuthMode> {
  params: P
  caller: A extends 'none' ? null : A extends 'session' ? SessionCaller : A extends 'admin' ? AdminCaller : Caller
  origin: Origin
  services: Services
  now: Date
}

export interface MethodDefinition<
  P extends TObject = TObject,
  R extends TSchema = TSchema,
  A extends AuthMode = AuthMode,
> {
  name: string
  summary: string
  auth: A
  /** ★ methods: the pipeline checks `password` against the caller's account; PATs never reach them. */
  sensitive: boolean
  /**
   * Callable while an operator's 2FA deadline has passed and 2FA is still off: enough to see the
   * requirement and enrol. Every other method then answers FORBIDDEN with `twoFactorSetupRequired`.
   */
  allowedDuringTwoFactorSetup?: boolean
  params: P
  result: R
  /**
   * `auth: 'none'` methods that take an lk2_ pending token as a param (Verify2FACode): an lk2_
   * credential sent alongside is not refused. Everywhere else an lk2_ credential is UNAUTHENTICATED.
   */
  acceptsPendingToken?: boolean
  /** Every valid PAT may call this method whatever its apiList (GetSession: how services check a credential). */
  ignoresApiList?: boolean
  /** Per-client-IP call limits counted before the call runs (RATE_LIMITED past them). */
  limits?: readonly CallLimit[]
  /** Reasons this method can answer besides the pipeline's own (`pipelineReasons`); both go into openapi.yaml. */
  errors: readonly Reason[]
  handle(context: CallContext<Static<P>, A>): Promise<Static<R>>
}

/** Typed identity: infers params/result types for `handle` from the schemas. */
export function defineMethod<P extends TObject, R extends TSchema, A extends AuthMode>(
  definition: MethodDefinition<P, R, A>,
): MethodDefinition<P, R, A> {
  return definition
}

/** The table erases each method's own types; the pipeline validates before calling. */
export type AnyMethod = MethodDefinition<TObject, TSchema, AuthMode>

/**
 * Reasons the pipeline (rpc/invoke.ts) itself can answer for a method, before or around its
 * handler, read from the definition: params are validated for every method (INVALID_PARAMS), a
 * store can be down (UNAVAILABLE) and anything unforeseen is INTERNAL; a method that takes a
 * credential refuses a missing or bad one (UNAUTHENTICATED) or the wrong kind (FORBIDDEN); a ★
 * method re-checks the password (INVALID_CREDENTIALS), rate-limited per account (RATE_LIMITED);
 * a method with per-IP `limits` is RATE_LIMITED past them. A method's `errors` lists only what it
 * adds to these.
 */
export function pipelineReasons(method: Pick<AnyMethod, 'auth' | 'sensitive' | 'limits'>): Reason[] {
  const own: Reason[] = ['INVALID_PARAMS', 'UNAVAILABLE', 'INTERNAL']
  if (method.auth !== 'none') own.push('UNAUTHENTICATED', 'FORBIDDEN')
  if (method.sensitive) own.push('INVALID_CREDENTIALS')
  if (method.sensitive || (method.limits?.length ?? 0) > 0) own.push('RATE_LIMITED')
  return own
}
