/**
 * Seeding through the public API only (/api/{Method}), as a client would: accounts, sessions, PATs
 * and a pool of 2FA accounts. Every call is checked; a failure stops the bench with the answer.
 */
import { randomBytes } from 'node:crypto'
import { nextUsableStep, totpCode, type TwoFactorAccount } from './lib.js'

export interface ApiAnswer {
  status: number
  body: Record<string, unknown>
}

export async function callApi(
  baseUrl: string,
  method: string,
  params: Record<string, unknown>,
  bearer?: string,
): Promise<ApiAnswer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (bearer !== undefined) headers['authorization'] = `Bearer ${bearer}`
  const response = await fetch(`${baseUrl}/api/${method}`, {
    method: 'POST',
    headers,
    body: JSON.stringify(params),
    signal: AbortSignal.timeout(120_000),
  })
  const text = await response.text()
  const parsed: unknown = text === '' ? {} : JSON.parse(text)
  const body =
    typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : { value: parsed }
  return { status: response.status, body }
}

async function mustCall(
  baseUrl: string,
  method: string,
  params: Record<string, unknown>,
  bearer?: string,
): Promise<Record<string, unknown>> {
  const answer = await callApi(baseUrl, method, params, bearer)
  if (answer.status !== 200)
    throw new Error(`seeding: ${method} answered ${answer.status} ${JSON.stringify(answer.body)}`)
  return answer.body
}

function stringField(body: Record<string, unknown>, field: string, method: string): string {
  const value = body[field]
  if (typeof value !== 'string') throw new Error(`seeding: ${method} answered no ${field}: ${JSON.stringify(body)}`)
  return value
}

/** Runs `task` over `items` with at most `limit` in flight (bcrypt-bound calls: twice the server's pool is plenty). */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const index = next++
      results[index] = await task(items[index] as T, index)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}

export interface Account {
  login: string
  password: string
}

const runId = randomBytes(3).toString('hex')
let counter = 0

/** A login and password the service accepts (not common, not containing the login). */
export function newAccount(stem: string): Account {
  return {
    login: `${stem}-${runId}-${counter++}@bench.example`,
    password: `Lk!${randomBytes(9).toString('base64url')}`,
  }
}

export async function signUp(baseUrl: string, accounts: readonly Account[], concurrency: number): Promise<void> {
  await mapLimit(accounts, concurrency, (a) => mustCall(baseUrl, 'SignUp', { login: a.login, password: a.password }))
}

export async function signIn(baseUrl: string, account: Account): Promise<string> {
  return stringField(
    await mustCall(baseUrl, 'SignIn', { login: account.login, password: account.password }),
    'session',
    'SignIn',
  )
}

/** The PAT every PAT scenario uses: a wildcard plus a plain name in its apiList. */
export const patApiList = ['environment.*', 'GetSession']

export async function createToken(baseUrl: string, account: Account, session: string): Promise<string> {
  const body = await mustCall(
    baseUrl,
    'CreateToken',
    { password: account.password, description: 'bench', apiList: patApiList },
    session,
  )
  const token = stringField(body, 'token', 'CreateToken')
  if (!token.startsWith('lkp_')) throw new Error(`seeding: CreateToken answered a token without the lkp_ prefix`)
  return token
}

/** Get2FAConfig + Enable2FA with our own TOTP; answers what the 2FA scenario needs, including the step Enable2FA spent. */
export async function enableTwoFactor(baseUrl: string, account: Account, session: string): Promise<TwoFactorAccount> {
  const config = await mustCall(baseUrl, 'Get2FAConfig', { password: account.password }, session)
  const secret = stringField(config, 'secret', 'Get2FAConfig')
  const step = nextUsableStep(-Infinity, Date.now())
  if (step === null) throw new Error('unreachable: a fresh account always has a usable step')
  const enabled = await mustCall(baseUrl, 'Enable2FA', { code: totpCode(secret, step) }, session)
  if (!Array.isArray(enabled['recoveryCodes']))
    throw new Error(`seeding: Enable2FA answered ${JSON.stringify(enabled)}`)
  return { ...account, secret, lastStep: step }
}

/**
 * Fails sign-ins for `login` one at a time until the service answers RATE_LIMITED (its per
 * (login, IP) limit), so the rate-limit scenario measures the refusal path from its first request.
 * Answers how many failures it took, or null if `maxAttempts` did not reach the limit.
 */
export async function preBlock(baseUrl: string, login: string, maxAttempts: number): Promise<number | null> {
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const answer = await callApi(baseUrl, 'SignIn', { login, password: 'definitely-wrong-password' })
    if (answer.status === 429) return attempt - 1
    if (answer.status !== 401)
      throw new Error(`pre-blocking: SignIn answered ${answer.status} ${JSON.stringify(answer.body)}`)
  }
  return null
}
