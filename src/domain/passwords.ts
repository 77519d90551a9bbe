/**
 * Password rules: length in code points of the NFKC form, no common passwords, not containing
 * the login; no composition rules. Messages never echo the password.
 */
import { createHmac } from 'node:crypto'
import { dictionary } from '@zxcvbn-ts/language-common'

export const passwordMinLength = 8
export const passwordMaxLength = 256

// Fixed on purpose: SECRETS_KEY rotates, stored password hashes must keep verifying.
const prehashKey = 'latchkey.password.v1'
const loneSurrogate = /\p{Surrogate}/u

const commonPasswords: ReadonlySet<string> = new Set(dictionary['passwords-common'].map((entry) => entry.toLowerCase()))

export function normalizePassword(password: string): string {
  return password.normalize('NFKC')
}

export function passwordProblems(password: string, login: string): string[] {
  const normalized = normalizePassword(password)
  const folded = normalized.toLowerCase()
  const problems: string[] = []
  // Lone surrogates become U+FFFD when encoded as UTF-8, so different inputs would share a hash.
  if (loneSurrogate.test(normalized)) problems.push('Password contains invalid Unicode characters.')
  const length = [...normalized].length
  if (length < passwordMinLength) {
    problems.push(`Password must be at least ${passwordMinLength} characters long.`)
  }
  if (length > passwordMaxLength) {
    problems.push(`Password must be at most ${passwordMaxLength} characters long.`)
  }
  if (commonPasswords.has(folded)) problems.push('Password is too common.')
  const foldedLogin = login.normalize('NFKC').toLowerCase()
  if (foldedLogin !== '' && folded.includes(foldedLogin)) {
    problems.push('Password must not contain the login.')
  }
  return problems
}

/**
 * What bcrypt hashes: bcrypt reads only the first 72 bytes, so the whole password is first
 * condensed to 44 base64 characters. HMAC rather than a bare hash keeps these values useless
 * against unsalted SHA-256 tables.
 */
export function passwordPrehash(password: string): string {
  return createHmac('sha256', prehashKey).update(normalizePassword(password), 'utf8').digest('base64')
}
