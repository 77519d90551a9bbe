import { defineMethod } from '../../rpc/define-method.js'
import { accountByLogin } from '../../auth/operator-actions.js'
import { HistoryLimit, SigninHistory, signinHistory } from '../accounts/get-signin-history.js'
import { Login, Params } from '../schemas.js'

export const adminGetSigninHistory = defineMethod({
  name: 'AdminGetSigninHistory',
  summary: "Operators: an account's security events, newest first, exactly as the user sees them.",
  auth: 'admin',
  sensitive: false,
  params: Params({ login: Login, limit: HistoryLimit }),
  result: SigninHistory,
  errors: ['NOT_FOUND'],
  async handle({ params, services }) {
    const account = await accountByLogin(services, params.login)
    return signinHistory(services, account.id, params.limit)
  },
})
