import { Type } from '@sinclair/typebox'
import QRCode from 'qrcode'
import { AppError } from '../../errors.js'
import { defineMethod } from '../../rpc/define-method.js'
import { encodeBase32, newTotpSecret, otpauthUri } from '../../domain/totp.js'
import { sealEnrolment } from '../../auth/enrolment.js'
import { Params, Password } from '../schemas.js'

export const get2FAConfig = defineMethod({
  name: 'Get2FAConfig',
  summary:
    'Start (or restart) enrolling an authenticator: a new TOTP secret, its otpauth URI and a QR code of it; Enable2FA with a code finishes within the enrolment lifetime.',
  auth: 'session',
  sensitive: true,
  allowedDuringTwoFactorSetup: true,
  params: Params({ password: Password }),
  result: Type.Object({
    secret: Type.String({
      pattern: '^[A-Z2-7]+$',
      description: 'the TOTP secret, base32 without padding, for manual entry',
    }),
    otpauthUri: Type.String({
      pattern: '^otpauth://totp/',
      description: 'otpauth://totp/{issuer}:{login}?secret=…&issuer=…',
    }),
    qrCode: Type.String({
      pattern: '^data:image/png;base64,',
      description: 'data:image/png;base64,… QR code of otpauthUri',
    }),
  }),
  errors: ['CONFLICT'],
  async handle({ caller, services }) {
    const { config, stores, secretBox } = services
    if ((await stores.twoFactor.status(caller.accountId)) !== null)
      throw new AppError('CONFLICT', 'Two-factor sign-in is already on; disable it first to enrol a new authenticator.')
    const secret = newTotpSecret()
    // Keyed by account: a second call replaces the first enrolment and its remaining attempts.
    await stores.enrolments.put(
      caller.accountId,
      sealEnrolment(secretBox, caller.accountId, secret),
      config.TWO_FACTOR_ENROL_ATTEMPTS,
      config.TWO_FACTOR_ENROL_SECONDS * 1000,
    )
    const uri = otpauthUri({ issuer: config.TOTP_ISSUER, login: caller.login, secret })
    const qrCode = await QRCode.toDataURL(uri, { errorCorrectionLevel: 'M' })
    return { secret: encodeBase32(secret), otpauthUri: uri, qrCode }
  },
})
