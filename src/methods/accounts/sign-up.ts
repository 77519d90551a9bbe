import { Type } from '@sinclair/typebox'
import { AppError } from '../../errors.js'
import { defineMethod } from '../../rpc/define-method.js'
import { canonicalLogin } from '../../domain/logins.js'
import { refuseWeakPassword } from '../../auth/refuse-weak-password.js'
import { Login, NewPassword, Params, Uuid } from '../schemas.js'

export const signUp = defineMethod({
  name: 'SignUp',
  summary: 'Create an account. Refused with FORBIDDEN when SIGNUP_ENABLED=false.',
  auth: 'none',
  limits: ['anonymous', 'signUp'],
  sensitive: false,
  params: Params({
    login: Login,
    password: NewPassword,
    email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
  }),
  result: Type.Object({ accountId: Uuid, login: Type.String() }),
  errors: ['FORBIDDEN', 'CONFLICT'],
  async handle({ params, origin, services }) {
    if (!services.config.SIGNUP_ENABLED) throw new AppError('FORBIDDEN', 'Sign-up is disabled on this service.')
    const login = canonicalLogin(params.login)
    refuseWeakPassword(params.password, login, 'password')
    const passwordHash = await services.passwords.hash(params.password)
    const account = await services.stores.accounts.create(
      { login, email: params.email ?? null, passwordHash },
      { type: 'signup', ...origin },
    )
    return { accountId: account.id, login: account.login }
  },
})
