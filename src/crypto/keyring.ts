/**
 * SECRETS_KEY: comma-separated 32-byte keys, current first. Older keys stay in the list after a
 * rotation so rows sealed under them still open until `rotate-secrets` re-seals them.
 */
import { createHash, randomBytes } from 'node:crypto'

export const keyBytes = 32

export interface SecretKey {
  /** First 8 hex chars of sha256('latchkey-key-id:' + key): names the key beside a sealed value without revealing it. */
  readonly id: string
  readonly bytes: Buffer
}

export interface Keyring {
  readonly current: SecretKey
  /** Current first. */
  readonly keys: readonly SecretKey[]
}

const hexKey = /^[0-9a-fA-F]{64}$/
// Standard or URL-safe alphabet, padding optional: Buffer.from would silently skip other characters.
const base64Key = /^[A-Za-z0-9+/_-]{43}={0,1}$/

export function keyId(bytes: Uint8Array): string {
  return createHash('sha256').update('latchkey-key-id:').update(bytes).digest('hex').slice(0, 8)
}

function decodeKey(text: string): Buffer | null {
  if (hexKey.test(text)) return Buffer.from(text, 'hex')
  if (!base64Key.test(text)) return null
  const bytes = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64')
  return bytes.length === keyBytes ? bytes : null
}

/** Throws a readable error that names the bad entry by position, never by content. */
export function parseKeyring(value: string): Keyring {
  const entries = value.split(',').map((entry) => entry.trim())
  const keys: SecretKey[] = []
  for (const [index, entry] of entries.entries()) {
    const where = entries.length === 1 ? 'SECRETS_KEY' : `SECRETS_KEY entry ${index + 1} of ${entries.length}`
    if (entry === '')
      throw new Error(`${where} is empty; expected a ${keyBytes}-byte key in base64 or ${keyBytes * 2} hex characters`)
    const bytes = decodeKey(entry)
    if (bytes === null)
      throw new Error(`${where} is not a ${keyBytes}-byte key in base64 or ${keyBytes * 2} hex characters`)
    const id = keyId(bytes)
    if (keys.some((key) => key.id === id)) throw new Error(`${where} repeats an earlier key`)
    keys.push({ id, bytes })
  }
  const [current] = keys
  if (current === undefined) throw new Error('SECRETS_KEY holds no key')
  return { current, keys }
}

/** A fresh key for SECRETS_KEY (base64). */
export function generateKeyMaterial(): string {
  return randomBytes(keyBytes).toString('base64')
}
