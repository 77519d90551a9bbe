import { AppError } from '../errors.js'
import { passwordProblems } from '../domain/passwords.js'

/** SignUp and ChangePassword: INVALID_PARAMS naming each problem, never echoing the password. */
export function refuseWeakPassword(password: string, login: string, field: string): void {
  const problems = passwordProblems(password, login)
  if (problems.length > 0) {
    throw new AppError('INVALID_PARAMS', `The ${field} is not acceptable: ${problems.join('; ')}.`, {
      errors: problems.map((message) => ({ field: `/${field}`, message })),
    })
  }
}
