/**
 * Every audit event type with what it records: the one list behind the AuditType union, the
 * store's filter for rows written by a newer build, and GetSigninHistory's description.
 * Listed in the order the API documents them; operator events (`admin.*`) go here too.
 */
export const auditEvents = {
  'signin.success': "login and password were accepted (detail.secondFactor 'required' when a code must follow)",
  'signin.failure': 'a sign-in was refused for a wrong login or password',
  '2fa.success': 'a TOTP code was accepted (at sign-in, or the one that enabled 2FA)',
  '2fa.failure': 'a second-factor code was refused at sign-in',
  'recovery.used': 'a recovery code completed a sign-in (and is spent)',
  '2fa.enabled': 'two-factor authentication was turned on',
  '2fa.disabled': 'two-factor authentication was turned off',
  'recovery.regenerated': 'a new set of recovery codes replaced the old one',
  'password.changed': 'the password was changed',
  'token.created': 'a personal access token was created',
  'token.edited': "a personal access token's description, apiList or expiry changed",
  'token.regenerated': "a personal access token's secret was replaced",
  'token.deleted': 'personal access tokens were deleted',
  signout: 'a session signed itself out',
  'sessions.revoked': 'sessions were signed out by SignOutSessions',
  'admin.2fa.disabled': 'an operator turned two-factor authentication off (detail: admin, reason); every session ended',
  'admin.2fa.required':
    'an operator required two-factor authentication, or lifted the requirement (detail: admin, reason)',
  'admin.locked': 'an operator locked the account (detail: admin, reason); every session ended, tokens refused',
  'admin.unlocked': 'an operator unlocked the account (detail: admin, reason)',
  'admin.signed_out': 'an operator ended every session, and maybe deleted every token (detail: admin, reason)',
  signup: 'the account was created',
} as const satisfies Record<string, string>

export type AuditType = keyof typeof auditEvents

export const auditTypes = Object.keys(auditEvents) as AuditType[]

export function isAuditType(value: string): value is AuditType {
  return Object.hasOwn(auditEvents, value)
}
