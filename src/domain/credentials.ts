/**
 * Credential formats: prefix + base62 secret. Kinds are told apart by prefix; PATs also carry a
 * CRC32 checksum so a leaked token can be recognised offline (secret scanners) without a lookup.
 * Only the SHA-256 digest of a credential is ever stored.
 */
import { hash, randomBytes } from 'node:crypto'
import { crc32 } from 'node:zlib'

export type CredentialKind = 'session' | 'pending' | 'token' | 'admin'

export const credentialPrefixes = { session: 'lks_', pending: 'lk2_', token: 'lkp_', admin: 'lka_' } as const

const base62Alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const secretLength = 32 // 32 × log2(62) ≈ 190 bits
const checksumLength = 6 // 62^6 > 2^32, so any CRC32 fits
const prefixLength = 4
const base62Body = /^[0-9A-Za-z]+$/

/** Uniform characters from `alphabet`; bytes at or above the largest multiple of its size are dropped so `% size` has no bias. */
export function randomString(alphabet: string, length: number): string {
  const size = alphabet.length
  const limit = 256 - (256 % size)
  let out = ''
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte >= limit) continue
      out += alphabet[byte % size]
      if (out.length === length) break
    }
  }
  return out
}

function newSecret(): string {
  return randomString(base62Alphabet, secretLength)
}

export function newSessionCredential(): string {
  return credentialPrefixes.session + newSecret()
}

export function newPendingCredential(): string {
  return credentialPrefixes.pending + newSecret()
}

/** An operator key: the service never stores it, only ADMIN_API_KEYS holds its SHA-256. */
export function newAdminKey(): string {
  return credentialPrefixes.admin + newSecret()
}

export function newPersonalAccessToken(): string {
  const secret = newSecret()
  return credentialPrefixes.token + secret + tokenChecksum(secret)
}

export function tokenChecksum(secret: string): string {
  // A string straight in (UTF-8): no Buffer per PAT check.
  let value = crc32(secret)
  let digits = ''
  while (value > 0) {
    digits = base62Alphabet[value % 62] + digits
    value = Math.floor(value / 62)
  }
  return digits.padStart(checksumLength, '0')
}

export function credentialKind(value: string): CredentialKind | null {
  const prefix = value.slice(0, prefixLength)
  const body = value.slice(prefixLength)
  if (!base62Body.test(body)) return null
  switch (prefix) {
    case credentialPrefixes.session:
      return body.length === secretLength ? 'session' : null
    case credentialPrefixes.pending:
      return body.length === secretLength ? 'pending' : null
    case credentialPrefixes.admin:
      return body.length === secretLength ? 'admin' : null
    case credentialPrefixes.token: {
      if (body.length !== secretLength + checksumLength) return null
      const secret = body.slice(0, secretLength)
      return body.slice(secretLength) === tokenChecksum(secret) ? 'token' : null
    }
    default:
      return null
  }
}

/**
 * Hex SHA-256 of a credential, the one form every store port takes. Made by `credentialDigest`;
 * the Postgres token adapter alone converts it to and from its bytea column.
 */
export type Digest = string & { readonly __brand: 'Digest' }

export function credentialDigest(value: string): Digest {
  // One-shot hashing: this runs on every authenticated request.
  return hash('sha256', value, 'hex') as Digest
}

export function tokenHint(token: string): string {
  return token.slice(-4)
}
