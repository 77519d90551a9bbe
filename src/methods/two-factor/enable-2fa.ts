import { Type } from '@sinclair/typebox'
import { AppError } from '../../errors.js'
import { defineMethod } from '../../rpc/define-method.js'
import { matchTotpStep } from '../../domain/totp.js'
import { generateRecoveryCodes } from '../../domain/recovery-codes.js'
import { openEnrolment } from '../../auth/enrolment.js'
import { Params, RecoveryCodeSet } from '../schemas.js'

const noEnrolment = () => new AppError('CONFLICT', 'There is no pending enrolment; call Get2FAConfig first.')

export const enable2FA = defineMethod({
  name: 'Enable2FA',
  summary:
    'Finish the pending enrolment with a current code from the authenticator; answers the recovery codes, shown in full only here and by GetRecoveryCodes.',
  auth: 'session',
  sensitive: false,
  allowedDuringTwoFactorSetup: true,
  params: Params({
    code: Type.String({ pattern: '^[0-9]{6}$', description: 'the 6-digit code the authenticator shows now' }),
  }),
  result: Type.Object({ recoveryCodes: RecoveryCodeSet }),
  errors: ['CONFLICT', 'INVALID_2FA_CODE'],
  async handle({ params, caller, origin, services, now }) {
    const { stores, secretBox, log } = services
    const { accountId } = caller
    if ((await stores.twoFactor.status(accountId)) !== null)
      throw new AppError('CONFLICT', 'Two-factor sign-in is already on.')
    // The attempt is taken before the code is compared: parallel guesses get no more than the enrolment's attempts.
    const enrolment = await stores.enrolments.reserve(accountId)
    if (enrolment === null) throw noEnrolment()
    const secret = openEnrolment(secretBox, accountId, enrolment.payload)

    const step = matchTotpStep(secret, params.code, now.getTime())
    if (step === null) {
      const { attemptsLeft } = enrolment
      throw new AppError(
        'INVALID_2FA_CODE',
        attemptsLeft > 0
          ? 'The code is wrong; check the authenticator clock and try again.'
          : 'The code is wrong; the enrolment is dropped, call Get2FAConfig to start again.',
        { attemptsLeft },
      )
    }

    const recoveryCodes = generateRecoveryCodes()
    // The decisive write: 2FA on, the codes, the audit event and the enrolment code's step (so it
    // cannot also open a sign-in) in one transaction. Of two parallel calls one wins, the other
    // gets CONFLICT. The store refreshes the sessions' copies of the flag after it.
    await stores.twoFactor.enable(accountId, secret, recoveryCodes, { type: '2fa.enabled', ...origin }, now, step)
    // Done: dropping the used enrolment must not turn this into an error (it would expire anyway).
    await stores.enrolments
      .take(accountId)
      .catch((err: unknown) => log.warn({ err }, 'could not drop a completed enrolment'))
    return { recoveryCodes }
  },
})
