/**
 * Secrets at rest: AES-256-GCM under a keyring from SECRETS_KEY. Each sealed value carries the id
 * of the key that sealed it (so old keys still open after rotation) and is bound to its row by
 * associated data (a sealed value copied to another row does not open).
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto'
import type { Keyring, SecretKey } from './keyring.js'
export interface Sealed {
  keyId: string
  /** nonce (12 bytes) || ciphertext || tag (16 bytes) */
  box: Buffer
}

export interface SecretBox {
  readonly currentKeyId: string
  seal(plaintext: Uint8Array, associatedData: string): Sealed
  /** Throws when the key id is unknown or the box was tampered with or moved. */
  open(sealed: Sealed, associatedData: string): Buffer
  /** Keyed digest for lookups (HMAC-SHA-256) under the current key. */
  digest(value: string): Buffer
  /** The same digest under every key in the ring, current first: lookups still match before re-sealing. */
  digestsUnderAllKeys(value: string): Buffer[]
}

const nonceBytes = 12
const tagBytes = 16

interface Subkeys {
  encryption: Buffer
  digest: Buffer
}

// Separate subkeys so the HMAC digests (stored beside the ciphertexts) share nothing with the cipher key.
function deriveSubkeys(key: SecretKey): Subkeys {
  const derive = (purpose: string) =>
    Buffer.from(hkdfSync('sha256', key.bytes, Buffer.alloc(0), `latchkey ${purpose} v1`, 32))
  return { encryption: derive('secret-box aes-256-gcm'), digest: derive('lookup digest hmac-sha256') }
}

export function createSecretBox(keyring: Keyring): SecretBox {
  const subkeys = new Map(keyring.keys.map((key) => [key.id, deriveSubkeys(key)]))
  const subkeysOf = (id: string): Subkeys => {
    const found = subkeys.get(id)
    if (found === undefined)
      throw new Error(`sealed under unknown key id ${id}; is an old key missing from SECRETS_KEY?`)
    return found
  }
  const current = subkeysOf(keyring.current.id)
  const hmac = (key: Buffer, value: string) => createHmac('sha256', key).update(value, 'utf8').digest()

  return {
    currentKeyId: keyring.current.id,

    seal(plaintext, associatedData) {
      const nonce = randomBytes(nonceBytes)
      const cipher = createCipheriv('aes-256-gcm', current.encryption, nonce, { authTagLength: tagBytes })
      cipher.setAAD(Buffer.from(associatedData, 'utf8'))
      const body = Buffer.concat([cipher.update(plaintext), cipher.final()])
      return { keyId: keyring.current.id, box: Buffer.concat([nonce, body, cipher.getAuthTag()]) }
    },

    open(sealed, associatedData) {
      const { encryption } = subkeysOf(sealed.keyId)
      if (sealed.box.length < nonceBytes + tagBytes) throw new Error('sealed value is truncated')
      const nonce = sealed.box.subarray(0, nonceBytes)
      const body = sealed.box.subarray(nonceBytes, sealed.box.length - tagBytes)
      const decipher = createDecipheriv('aes-256-gcm', encryption, nonce, { authTagLength: tagBytes })
      decipher.setAAD(Buffer.from(associatedData, 'utf8'))
      decipher.setAuthTag(sealed.box.subarray(sealed.box.length - tagBytes))
      try {
        return Buffer.concat([decipher.update(body), decipher.final()])
      } catch (cause) {
        throw new Error('sealed value failed authentication (tampered, or moved to another row)', { cause })
      }
    },

    digest(value) {
      return hmac(current.digest, value)
    },

    digestsUnderAllKeys(value) {
      return keyring.keys.map((key) => hmac(subkeysOf(key.id).digest, value))
    },
  }
}
