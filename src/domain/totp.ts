/**
 * TOTP per RFC 6238 with the parameters every authenticator app supports: SHA-1, 6 digits, 30 s.
 * The clock is an argument; refusing a replayed step is the store's job (it must be atomic).
 */
import { randomFillSync, timingSafeEqual } from 'node:crypto'
import { generateSync, ScureBase32Plugin } from 'otplib'

export const totpPeriodSeconds = 30
export const totpDigits = 6

const totpSecretBytes = 20
const base32 = new ScureBase32Plugin()
const codeFormat = /^[0-9]{6}$/

export function newTotpSecret(): Uint8Array {
  return randomFillSync(new Uint8Array(totpSecretBytes))
}

export function encodeBase32(secret: Uint8Array): string {
  return base32.encode(secret, { padding: false })
}

/**
 * Google Authenticator key-URI format. Built by hand because otplib's generateURI leaves out
 * algorithm/digits/period when they are the defaults, and some apps want them spelled out.
 * encodeURIComponent writes spaces as %20; apps that read '+' as a literal plus would show it.
 */
export function otpauthUri(input: { issuer: string; login: string; secret: Uint8Array }): string {
  const issuer = encodeURIComponent(input.issuer)
  const login = encodeURIComponent(input.login)
  return (
    `otpauth://totp/${issuer}:${login}?secret=${encodeBase32(input.secret)}&issuer=${issuer}` +
    `&algorithm=SHA1&digits=${totpDigits}&period=${totpPeriodSeconds}`
  )
}

export function totpStep(nowMs: number): number {
  return Math.floor(nowMs / 1000 / totpPeriodSeconds)
}

export function totpCodeAt(secret: Uint8Array, step: number): string {
  return generateSync({
    secret,
    strategy: 'totp',
    algorithm: 'sha1',
    digits: totpDigits,
    period: totpPeriodSeconds,
    epoch: step * totpPeriodSeconds,
  })
}

export function isTotpCodeFormat(code: string): boolean {
  return codeFormat.test(code)
}

/**
 * The step (previous, current or next) whose code equals `code`, else null. Every candidate is
 * computed and compared so timing does not reveal which step matched; on the (1 in 10^6)
 * chance that two steps share a code the earliest wins, the one a replay check refuses first.
 */
export function matchTotpStep(secret: Uint8Array, code: string, nowMs: number): number | null {
  if (!isTotpCodeFormat(code)) return null
  const given = Buffer.from(code, 'ascii')
  const current = totpStep(nowMs)
  let matched: number | null = null
  for (const step of [current - 1, current, current + 1]) {
    if (step < 0) continue
    const equal = timingSafeEqual(Buffer.from(totpCodeAt(secret, step), 'ascii'), given)
    if (equal && matched === null) matched = step
  }
  return matched
}
