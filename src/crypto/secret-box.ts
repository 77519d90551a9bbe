/**
 * Secrets at rest: AES-256-GCM under a keyring from SECRETS_KEY. Each sealed value carries the id
 * of the key that sealed it (so old keys still open after rotation) and is bound to its row by
 * associated data (a sealed value copied to another row does not open).
 */
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
