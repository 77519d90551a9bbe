/**
 * The page's only channel to the service: JSON-RPC 2.0 on /rpc with the same methods API clients
 * use. The session credential lives in memory and in sessionStorage (this tab only; gone when the
 * tab closes), never in localStorage; see the README's threat model.
 */
const STORAGE_KEY = 'latchkey.session'

let current: string | null = readStored()

function readStored(): string | null {
  try {
    return sessionStorage.getItem(STORAGE_KEY)
  } catch {
    return null
  }
}

export const session = {
  get: () => current,
  set(value: string) {
    current = value
    try {
      sessionStorage.setItem(STORAGE_KEY, value)
    } catch {
      // Storage refused (private mode quotas): the session still lives in memory for this page.
    }
  },
  clear() {
    current = null
    try {
      sessionStorage.removeItem(STORAGE_KEY)
    } catch {
      // Nothing stored to remove.
    }
  },
}

export class RpcError extends Error {
  constructor(
    readonly reason: string,
    message: string,
    readonly data: Record<string, unknown> = {},
  ) {
    super(message)
  }
}

/** Thrown after the page has already reacted (back to sign-in, or to the 2FA setup view); callers ignore it. */
export class Handled extends Error {}

interface Hooks {
  /** A call with the session answered UNAUTHENTICATED: the session is over. */
  unauthenticated(): void
  /** An operator requires 2FA and the deadline has passed: only setup is open. */
  setupRequired(): void
}

let hooks: Hooks = { unauthenticated() {}, setupRequired() {} }
export const setHooks = (next: Hooks) => {
  hooks = next
}

let nextId = 1

/** One call. `credential: null` sends none (sign-in); otherwise the current session is sent. */
export async function rpc<T>(method: string, params?: Record<string, unknown>, credential?: string | null): Promise<T> {
  const bearer = credential === undefined ? current : credential
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (bearer !== null) headers['authorization'] = `Bearer ${bearer}`
  let body: { result?: T; error?: { message: string; data?: Record<string, unknown> } }
  try {
    const response = await fetch('/rpc', {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, ...(params === undefined ? {} : { params }) }),
      credentials: 'omit',
      cache: 'no-store',
    })
    body = (await response.json()) as typeof body
  } catch {
    throw new RpcError('NETWORK', 'The service could not be reached. Check your connection and try again.')
  }
  if (body.error === undefined) return body.result as T
  const data = body.error.data ?? {}
  const reason = typeof data['reason'] === 'string' ? data['reason'] : 'INTERNAL'
  if (reason === 'UNAUTHENTICATED' && credential === undefined && bearer !== null) {
    session.clear()
    hooks.unauthenticated()
    throw new Handled()
  }
  if (reason === 'FORBIDDEN' && data['twoFactorSetupRequired'] === true) {
    hooks.setupRequired()
    throw new Handled()
  }
  throw new RpcError(reason, body.error.message, data)
}

const fieldLabels: Record<string, string> = {
  login: 'Login',
  password: 'Password',
  newPassword: 'New password',
  description: 'Description',
  apiList: 'Methods',
  expiresAt: 'Expiry',
  code: 'Authentication code',
}

/** What a person should read for a failed call; null for errors the page already handled. */
export function describeError(error: unknown, context: { password?: boolean } = {}): string | null {
  if (error instanceof Handled) return null
  if (!(error instanceof RpcError)) return 'Something went wrong. Please try again.'
  switch (error.reason) {
    case 'INVALID_CREDENTIALS':
      return context.password === true ? 'That password is not right.' : 'Wrong login or password.'
    case 'INVALID_2FA_CODE': {
      const left = error.data['attemptsLeft']
      const tail = typeof left === 'number' ? ` ${left} attempt${left === 1 ? '' : 's'} left.` : ''
      return `That code is not right, or it was already used.${tail}`
    }
    case 'RATE_LIMITED': {
      const after = error.data['retryAfter']
      return typeof after === 'number'
        ? `Too many attempts. Try again in ${after} second${after === 1 ? '' : 's'}.`
        : 'Too many attempts. Try again later.'
    }
    case 'INVALID_PARAMS': {
      const errors = error.data['errors']
      if (Array.isArray(errors) && errors.length > 0) {
        const first = errors[0] as { field?: string; message?: string }
        const name = (first.field ?? '').replace(/^\//, '')
        return `${fieldLabels[name] ?? (name === '' ? 'Input' : name)}: ${first.message ?? 'not accepted'}.`
      }
      return error.message
    }
    case 'FORBIDDEN':
      return error.data['locked'] === true
        ? 'This account is locked by an administrator. Contact support to have it unlocked.'
        : error.message
    case 'UNAVAILABLE':
      return 'The service is briefly unavailable; nothing was changed. Please try again.'
    default:
      return error.message
  }
}

// Result shapes of the methods the page calls (see openapi.yaml).
export interface SessionInfo {
  accountId: string
  login: string
  authType: 'session' | 'token'
  twoFactorEnabled: boolean
  expiresAt: string
  twoFactorSetupRequired?: boolean
  twoFactorSetupRequiredBy?: string
}
export type SignInResult =
  | { session: string; expiresAt: string; twoFactorSetupRequired?: boolean; twoFactorSetupRequiredBy?: string }
  | { twoFactorRequired: true; twoFactorToken: string; expiresAt: string; methods: string[] }
export interface TwoFactorStatus {
  enabled: boolean
  enabledAt: string | null
  recoveryCodesLeft: number
  /** An operator requires 2FA of this account (then Disable2FA is FORBIDDEN). */
  required: boolean
  requiredBy: string | null
}
export interface TwoFactorConfig {
  secret: string
  otpauthUri: string
  qrCode: string
}
export interface SessionRow {
  id: string
  createdAt: string
  lastSeenAt: string
  expiresAt: string
  ip: string | null
  userAgent: string | null
  current: boolean
}
export interface TokenRow {
  id: string
  description: string
  apiList: string[] | null
  createdAt: string
  expiresAt: string | null
  lastUsedAt: string | null
  lastUsedIp: string | null
  hint: string
}
export interface ApiMethod {
  name: string
  description: string
}
export interface HistoryEvent {
  type: string
  at: string
  ip: string | null
  userAgent: string | null
  detail?: Record<string, unknown> | null
}
