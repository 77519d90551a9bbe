/**
 * Recovery codes: `xxxxx-xxxxx` of lowercase letters and digits (36^10 ≈ 51.7 bits each).
 * Users retype them from paper, so input ignores case, spaces and hyphens.
 */
import { randomString } from './credentials.js'

export const recoveryCodeCount = 10

const codeAlphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'
const codeLength = 10
const halfLength = 5
// Checked before lower-casing: toLowerCase maps some non-ASCII letters (U+212A KELVIN SIGN) to ASCII.
const asciiCode = /^[A-Za-z0-9]{10}$/
const ignored = /[\s-]/g

function format(compact: string): string {
  return `${compact.slice(0, halfLength)}-${compact.slice(halfLength)}`
}

export function generateRecoveryCodes(count = recoveryCodeCount): string[] {
  const codes = new Set<string>()
  while (codes.size < count) codes.add(format(randomString(codeAlphabet, codeLength)))
  return [...codes]
}

export function normalizeRecoveryCode(input: string): string | null {
  const compact = input.replace(ignored, '')
  if (!asciiCode.test(compact)) return null
  return format(compact.toLowerCase())
}

export function looksLikeRecoveryCode(input: string): boolean {
  return normalizeRecoveryCode(input) !== null
}
