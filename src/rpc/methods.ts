import type { AnyMethod } from './define-method.js'
import { signUp } from '../methods/accounts/sign-up.js'
import { signIn } from '../methods/accounts/sign-in.js'
import { changePassword } from '../methods/accounts/change-password.js'
import { getSigninHistory } from '../methods/accounts/get-signin-history.js'
import { signOut } from '../methods/sessions/sign-out.js'
import { getSession } from '../methods/sessions/get-session.js'
import { getSessions } from '../methods/sessions/get-sessions.js'
import { signOutSessions } from '../methods/sessions/sign-out-sessions.js'
import { get2FAStatus } from '../methods/two-factor/get-2fa-status.js'
import { get2FAConfig } from '../methods/two-factor/get-2fa-config.js'
import { enable2FA } from '../methods/two-factor/enable-2fa.js'
import { verify2FACode } from '../methods/two-factor/verify-2fa-code.js'
import { getRecoveryCodes } from '../methods/two-factor/get-recovery-codes.js'
import { regenerateRecoveryCodes } from '../methods/two-factor/regenerate-recovery-codes.js'
import { disable2FA } from '../methods/two-factor/disable-2fa.js'
import { createToken } from '../methods/tokens/create-token.js'
import { getTokens } from '../methods/tokens/get-tokens.js'
import { editToken } from '../methods/tokens/edit-token.js'
import { regenerateToken } from '../methods/tokens/regenerate-token.js'
import { deleteTokens } from '../methods/tokens/delete-tokens.js'
import { getTokenApiList } from '../methods/tokens/get-token-api-list.js'
import { adminGetAccount } from '../methods/admin/admin-get-account.js'
import { adminListAccounts } from '../methods/admin/admin-list-accounts.js'
import { adminDisable2FA } from '../methods/admin/admin-disable-2fa.js'
import { adminRequire2FA } from '../methods/admin/admin-require-2fa.js'
import { adminLockAccount } from '../methods/admin/admin-lock-account.js'
import { adminUnlockAccount } from '../methods/admin/admin-unlock-account.js'
import { adminSignOut } from '../methods/admin/admin-sign-out.js'
import { adminGetSigninHistory } from '../methods/admin/admin-get-signin-history.js'

/** Every method of the service, once. Transports, the OpenAPI document and the API catalog read it. */
export const methodTable: readonly AnyMethod[] = [
  signUp,
  signIn,
  signOut,
  getSession,
  getSessions,
  signOutSessions,
  changePassword,
  getSigninHistory,
  get2FAStatus,
  get2FAConfig,
  enable2FA,
  verify2FACode,
  getRecoveryCodes,
  regenerateRecoveryCodes,
  disable2FA,
  createToken,
  getTokens,
  editToken,
  regenerateToken,
  deleteTokens,
  getTokenApiList,
  adminGetAccount,
  adminListAccounts,
  adminDisable2FA,
  adminRequire2FA,
  adminLockAccount,
  adminUnlockAccount,
  adminSignOut,
  adminGetSigninHistory,
]

const names = new Set(methodTable.map((m) => m.name))
if (names.size !== methodTable.length) throw new Error('method table: a name appears twice')
