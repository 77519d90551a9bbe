import { AppError } from '../errors.js'
import type { Services } from '../services.js'
import type { Caller, Origin } from '../rpc/define-method.js'
import { reservePasswordAttempt } from './signin-limits.js'

/** ★ methods re-check the account password; wrong guesses count like failed sign-ins of the login from this IP. */
export async function confirmPassword(
  services: Services,
  caller: Caller,
  password: string,
  origin: Origin,
): Promise<void> {
  const attempt = await reservePasswordAttempt(services, caller.login, origin.ip)
  const account = await services.stores.accounts.findById(caller.accountId)
  if (account === null) throw new AppError('UNAUTHENTICATED', 'The account no longer exists.')
  if (!(await services.passwords.verify(password, account.passwordHash)))
    throw new AppError('INVALID_CREDENTIALS', 'The password confirmation is wrong.')
  await attempt.confirmed()
}
