import type { SecretBox } from '../crypto/secret-box.js'

/**
 * A pending enrolment waits in Redis between Get2FAConfig and Enable2FA. Its TOTP secret is
 * sealed like the durable one, so a Redis dump or replica never holds it in plain, and it is
 * bound to the account (associated data) so a payload copied to another account's key does not open.
 */
interface EnrolmentPayload {
  keyId: string
  box: string
}

const associatedData = (accountId: string) => `enrolment:${accountId}`

export function sealEnrolment(secretBox: SecretBox, accountId: string, secret: Uint8Array): string {
  const sealed = secretBox.seal(secret, associatedData(accountId))
  const payload: EnrolmentPayload = { keyId: sealed.keyId, box: sealed.box.toString('base64') }
  return JSON.stringify(payload)
}

/** Throws when the payload is not ours, was tampered with or belongs to another account. */
export function openEnrolment(secretBox: SecretBox, accountId: string, payload: string): Uint8Array {
  const parsed: unknown = JSON.parse(payload)
  if (!isEnrolmentPayload(parsed)) throw new Error('malformed enrolment payload')
  const opened = secretBox.open(
    { keyId: parsed.keyId, box: Buffer.from(parsed.box, 'base64') },
    associatedData(accountId),
  )
  return new Uint8Array(opened)
}

function isEnrolmentPayload(value: unknown): value is EnrolmentPayload {
  if (typeof value !== 'object' || value === null) return false
  const { keyId, box } = value as Record<string, unknown>
  return typeof keyId === 'string' && typeof box === 'string'
}
