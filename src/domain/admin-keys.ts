/**
 * Operator keys (`lka_…`). The service never holds them: ADMIN_API_KEYS lists `name:sha256hex`
 * entries, the SHA-256 of the whole key in hex, so a leaked configuration grants nothing.
 */
import { timingSafeEqual } from 'node:crypto'
import { credentialDigest } from './credentials.js'

export interface AdminKeyEntry {
  name: string
  digest: Buffer
}

const namePattern = /^[A-Za-z0-9._@-]{1,64}$/
const digestPattern = /^[0-9a-fA-F]{64}$/

/** The entries of ADMIN_API_KEYS; unset or empty: none (the admin API is off). Throws on a malformed entry. */
export function parseAdminKeys(value: string | undefined): AdminKeyEntry[] {
  if (value === undefined || value.trim() === '') return []
  const entries: AdminKeyEntry[] = []
  for (const [i, raw] of value.split(',').entries()) {
    const item = raw.trim()
    const colon = item.lastIndexOf(':')
    const name = item.slice(0, colon)
    const hex = item.slice(colon + 1)
    // The position, never the value: a pasted key must not end up in an error message.
    if (colon < 0 || !namePattern.test(name) || !digestPattern.test(hex))
      throw new Error(
        `ADMIN_API_KEYS entry ${i + 1} is not name:sha256hex (name: 1–64 of A-Za-z0-9._@-, 64 hex digits)`,
      )
    if (entries.some((e) => e.name === name)) throw new Error(`ADMIN_API_KEYS names ${name} twice`)
    entries.push({ name, digest: Buffer.from(hex, 'hex') })
  }
  return entries
}

/** The ADMIN_API_KEYS entry for a key: its digest is the one every credential gets. */
export function adminKeyEntry(name: string, key: string): string {
  return `${name}:${credentialDigest(key)}`
}

/**
 * The name of the entry whose digest matches the key, or null. Every entry is compared, each in
 * constant time, so the answer's timing says nothing about which entry (if any) came close.
 */
export function matchAdminKey(entries: readonly AdminKeyEntry[], key: string): string | null {
  const digest = Buffer.from(credentialDigest(key), 'hex')
  let found: string | null = null
  for (const entry of entries) {
    if (timingSafeEqual(entry.digest, digest) && found === null) found = entry.name
  }
  return found
}
