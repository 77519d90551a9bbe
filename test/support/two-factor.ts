/**
 * 2FA helpers shared by the method and security tests. Codes come from the independent `otpauth`
 * package, never from src/domain/totp.ts, so a bug there cannot hide itself.
 */
import assert from 'node:assert/strict'
import * as OTPAuth from 'otpauth'
import type { TestApp } from './app.js'
import { ok, sleep, type Transport } from './calls.js'

const periodMs = 30_000

export function totpCode(secret: string, timestampMs: number): string {
  return new OTPAuth.TOTP({
    secret: OTPAuth.Secret.fromBase32(secret),
    algorithm: 'SHA1',
    digits: 6,
    period: 30,
  }).generate({ timestamp: timestampMs })
}

/**
 * The code `offset` steps from now. Near the end of a step it waits for the next one, so the
 * server (a few ms later) still sees the step the code was made for.
 */
export async function codeAt(secret: string, offset: number): Promise<string> {
  if (Date.now() % periodMs > periodMs - 1500) await sleep(periodMs - (Date.now() % periodMs) + 50)
  return totpCode(secret, Date.now() + offset * periodMs)
}

/** Six digits no step in the accepted window (previous, current, next) produces. */
export function wrongCode(secret: string): string {
  const now = Date.now()
  const valid = new Set([-2, -1, 0, 1, 2].map((offset) => totpCode(secret, now + offset * periodMs)))
  for (let n = 0; ; n++) {
    const candidate = String((123456 + n * 7919) % 1_000_000).padStart(6, '0')
    if (!valid.has(candidate)) return candidate
  }
}

export interface Enrolled {
  login: string
  password: string
  accountId: string
  session: string
  secret: string
  otpauthUri: string
  qrCode: string
  recoveryCodes: string[]
}

/**
 * Signs up and turns 2FA on. The enrolling code is the previous step's, so the current and next
 * steps stay free for sign-ins in the test (each step is accepted once).
 */
export async function enrolledAccount(t: TestApp, transport: Transport = 'api'): Promise<Enrolled> {
  const { login, password, accountId } = await t.signUp()
  const session = await t.signIn(login, password)
  const config = await ok(t, transport, 'Get2FAConfig', { password }, { bearer: session })
  const secret = String(config['secret'])
  const enabled = await ok(t, transport, 'Enable2FA', { code: await codeAt(secret, -1) }, { bearer: session })
  const recoveryCodes = enabled['recoveryCodes']
  assert.ok(Array.isArray(recoveryCodes))
  return {
    login,
    password,
    accountId,
    session,
    secret,
    otpauthUri: String(config['otpauthUri']),
    qrCode: String(config['qrCode']),
    recoveryCodes: recoveryCodes.map(String),
  }
}

/** SignIn for an account with 2FA on: the pending lk2_ token. */
export async function pendingToken(t: TestApp, transport: Transport, login: string, password: string): Promise<string> {
  const reply = await ok(t, transport, 'SignIn', { login, password })
  assert.equal(reply['twoFactorRequired'], true)
  const token = String(reply['twoFactorToken'])
  assert.match(token, /^lk2_/)
  return token
}
