import { Type } from '@sinclair/typebox'
import { AppError } from '../../errors.js'
import { defineMethod } from '../../rpc/define-method.js'
import { matchTotpStep } from '../../domain/totp.js'
import { generateRecoveryCodes } from '../../domain/recovery-codes.js'
import { openEnrolment } from '../../auth/enrolment.js'
import { publishTwoFactorState } from '../../auth/second-factor.js'
import { Params, RecoveryCodeSet } from '../schemas.js'

const noEnrolment = () => new AppError('CONFLICT', 'There is no pending enrolment; call Get2FAConfig first.')

export const enable2FA = defineMethod({
  name: 'Enable2FA',
  summary:
    'Finish the pending enrolment with a current code from the authenticator; answers the recovery codes, shown in full only here and by GetRecoveryCodes.',
  auth: 'session',
  sensitive: false,
  params: Params({
    code: Type.String({ pattern: '^[0-9]{6}$', description: 'the 6-digit code the authenticator shows now' }),
  }),
  result: Type.Object({ recoveryCodes: RecoveryCodeSet }),
  errors: ['CONFLICT', 'INVALID_2FA_CODE'],
  async handle({ params, caller, origin, services, now }) {
    const { stores, secretBox } = services
    const { accountId } = caller
    if ((await stores.twoFactor.status(accountId)) !== null)
      throw new AppError('CONFLICT', 'Two-factor sign-in is already on.')
    const enrolment = await stores.enrolments.get(accountId)
    if (enrolment === null) throw noEnrolment()
    const secret = openEnrolment(secretBox, accountId, enrolment.payload)

    const step = matchTotpStep(secret, params.code, now.getTime())
    if (step === null) {
      const attemptsLeft = await stores.enrolments.fail(accountId)
      if (attemptsLeft === null) throw noEnrolment()
      throw new AppError(
        'INVALID_2FA_CODE',
        attemptsLeft > 0
          ? 'The code is wrong; check the authenticator clock and try again.'
          : 'The code is wrong; the enrolment is dropped, call Get2FAConfig to start again.',
        { attemptsLeft },
      )
    }

    const recoveryCodes = generateRecoveryCodes()
    // Of two parallel Enable2FA calls the store lets one through; the other gets CONFLICT.
    await stores.twoFactor.enable(accountId, secret, recoveryCodes, { type: '2fa.enabled', ...origin }, now)
    // The code that proved the enrolment must not also open a sign-in (replay within its 90 s).
    await stores.twoFactor.acceptStep(accountId, step, {
      type: '2fa.success',
      ...origin,
      detail: { method: 'totp', purpose: 'enrolment' },
    })
    // Dropped only after enable() committed: if Postgres failed, the user can simply retry.
    await stores.enrolments.take(accountId)
    await publishTwoFactorState(services, accountId, true)
    return { recoveryCodes }
  },
})
