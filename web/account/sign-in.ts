import { rpc, RpcError, session, type SignInResult } from './rpc.js'
import { alertBox, busy, describeErrorInto, field, h, replace, statusBox, totpHint } from './ui.js'

export interface SignedIn {
  setupRequired: boolean
  /** An operator's deadline for turning 2FA on, still ahead. */
  setupRequiredBy?: string
  /** Set when the sign-in spent a recovery code: how many remain. */
  recoveryCodesLeft?: number
}

/**
 * Sign in: Login + Password, then (2FA on) the authentication code — from the app or a recovery
 * code. `notice` explains why we are here (signed out, session ended).
 */
export function renderSignIn(root: HTMLElement, notice: string | null, onSignedIn: (result: SignedIn) => void): void {
  const card = h('div', { class: 'card narrow' })
  const heading = h('h1', { tabindex: -1 }, 'Sign in')
  replace(root, h('header', { class: 'bar' }, h('span', { class: 'brand' }, 'latchkey')), card)

  const credentials = () => {
    const login = field('Login', {
      type: 'text',
      autocomplete: 'username',
      required: true,
      autocapitalize: 'none',
      spellcheck: 'false',
    })
    const password = field('Password', { type: 'password', autocomplete: 'current-password', required: true })
    const alert = alertBox()
    const status = statusBox()
    status.show(notice)
    const submit = h('button', { type: 'submit', class: 'primary wide' }, 'Sign in')
    const form = h(
      'form',
      {
        novalidate: true,
        onsubmit: (event: Event) => {
          event.preventDefault()
          if (login.input.value.trim() === '' || password.input.value === '') {
            alert.show('Enter your login and password.')
            ;(login.input.value.trim() === '' ? login.input : password.input).focus()
            return
          }
          void busy(submit, async () => {
            alert.show(null)
            try {
              const result = await rpc<SignInResult>(
                'SignIn',
                { login: login.input.value.trim(), password: password.input.value },
                null,
              )
              if ('twoFactorRequired' in result) secondFactor(result.twoFactorToken, login.input.value.trim())
              else {
                session.set(result.session)
                onSignedIn({
                  setupRequired: result.twoFactorSetupRequired === true,
                  ...(result.twoFactorSetupRequiredBy === undefined
                    ? {}
                    : { setupRequiredBy: result.twoFactorSetupRequiredBy }),
                })
              }
            } catch (error) {
              describeErrorInto(alert, error)
              password.input.select()
              password.input.focus()
            }
          })
        },
      },
      heading,
      status,
      login.wrap,
      password.wrap,
      alert,
      submit,
    )
    replace(card, form)
    login.input.focus()
  }

  const secondFactor = (twoFactorToken: string, login: string) => {
    const code = field(
      'Authentication code',
      {
        type: 'text',
        autocomplete: 'one-time-code',
        required: true,
        autocapitalize: 'none',
        spellcheck: 'false',
        class: 'code-input',
      },
      totpHint('Type the 6-digit code from your authenticator app, or one of your recovery codes. '),
    )
    const alert = alertBox()
    const submit = h('button', { type: 'submit', class: 'primary wide' }, 'Verify')
    const back = h('button', { type: 'button', class: 'link', onclick: () => credentials() }, 'Use a different account')
    const form = h(
      'form',
      {
        novalidate: true,
        onsubmit: (event: Event) => {
          event.preventDefault()
          const value = code.input.value.trim()
          if (value === '') {
            alert.show('Enter the code from your app or a recovery code.')
            code.input.focus()
            return
          }
          void busy(submit, async () => {
            alert.show(null)
            try {
              const result = await rpc<{ session: string; recoveryCodesLeft: number }>(
                'Verify2FACode',
                { twoFactorToken, code: value },
                null,
              )
              session.set(result.session)
              const usedRecovery = /[a-z]/i.test(value)
              onSignedIn({
                setupRequired: false,
                ...(usedRecovery ? { recoveryCodesLeft: result.recoveryCodesLeft } : {}),
              })
            } catch (error) {
              const dead =
                error instanceof RpcError &&
                (error.reason === 'UNAUTHENTICATED' ||
                  (error.reason === 'INVALID_2FA_CODE' && error.data['attemptsLeft'] === 0))
              if (dead) {
                notice = 'That sign-in attempt ended (too many wrong codes or it took too long). Sign in again.'
                credentials()
                return
              }
              describeErrorInto(alert, error)
              code.input.select()
              code.input.focus()
            }
          })
        },
      },
      h('h1', { tabindex: -1 }, 'Two-factor authentication'),
      h('p', {}, 'Signed in as ', h('strong', {}, login), '. One more step:'),
      code.wrap,
      alert,
      submit,
      h('p', {}, 'Lost your phone? Use a recovery code. ', back),
    )
    replace(card, form)
    code.input.focus()
  }

  credentials()
}
