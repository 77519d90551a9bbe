/** Logins are case-insensitive: `Alice` and `alice` are one account, stored in lower case. */

export const loginPattern = '^[A-Za-z0-9._@+-]{3,254}$'

export function canonicalLogin(login: string): string {
  return login.toLowerCase()
}
