import { codesPanel, type CodeRow } from './codes.js'
import { cancelButton, confirmStep, openDialog, passwordStep } from './dialog.js'
import { rpc, RpcError, type TwoFactorConfig, type TwoFactorStatus } from './rpc.js'
import { alertBox, busy, describeErrorInto, field, h, replace, time, totpHint } from './ui.js'

/** Set Up Two-Factor Authentication: password → QR code and secret → code → recovery codes. */
export function startSetup(onFinished: () => void): void {
  const dialog = openDialog('Set up two-factor authentication')
  dialog.onClose(onFinished)
  const askPassword = () =>
    passwordStep(dialog, 'Confirm your password to start.', async (password) => {
      const config = await rpc<TwoFactorConfig>('Get2FAConfig', { password })
      showSecret(config)
    })
  const showSecret = (config: TwoFactorConfig) => {
    const hint = totpHint()
    const code = field(
      'Authentication code',
      {
        type: 'text',
        inputmode: 'numeric',
        autocomplete: 'one-time-code',
        pattern: '[0-9]{6}',
        maxlength: 6,
        required: true,
        class: 'code-input',
      },
      hint,
    )
    const alert = alertBox()
    const next = h('button', { type: 'submit', class: 'primary' }, 'Next')
    const form = h(
      'form',
      {
        novalidate: true,
        onsubmit: (event: Event) => {
          event.preventDefault()
          const value = code.input.value.replace(/\s+/g, '')
          if (!/^\d{6}$/.test(value)) {
            alert.show('Enter the 6-digit code your app shows.')
            code.input.focus()
            return
          }
          void busy(next, async () => {
            alert.show(null)
            try {
              const result = await rpc<{ recoveryCodes: string[] }>('Enable2FA', { code: value })
              showCodes(result.recoveryCodes)
            } catch (error) {
              if (error instanceof RpcError && error.reason === 'CONFLICT') {
                alert.show('This setup expired or had too many wrong codes. Start again.')
                replace(
                  form.querySelector('.actions') as HTMLElement,
                  h('button', { type: 'button', class: 'primary', onclick: askPassword }, 'Start again'),
                  cancelButton(dialog),
                )
                return
              }
              describeErrorInto(alert, error)
              code.input.select()
              code.input.focus()
            }
          })
        },
      },
      h(
        'ol',
        { class: 'steps' },
        h('li', {}, 'Open an authenticator app (Google Authenticator, Authy, 1Password…) and scan this QR code.'),
        h('li', {}, 'Type the 6-digit code the app shows, then select Next.'),
      ),
      h('img', { src: config.qrCode, alt: 'QR code', class: 'qr', width: 240, height: 240 }),
      h('p', {}, "Can't scan it? Enter this key in the app instead:"),
      h('p', {}, h('code', { class: 'secret' }, config.secret)),
      code.wrap,
      alert,
      h('div', { class: 'actions' }, next, cancelButton(dialog)),
    )
    dialog.step(form)
    code.input.focus()
  }
  const showCodes = (codes: string[]) => {
    // 2FA is on now; leaving before the codes are saved would lose them, so only Done closes.
    dialog.setClosable(false)
    dialog.step(
      h('p', { class: 'success' }, 'Two-factor authentication is on.'),
      h('p', {}, 'Save these recovery codes somewhere safe. If you lose your phone, each code lets you sign in once.'),
      codesPanel(
        codes.map((code) => ({ code, used: false })),
        { requireSaved: true, onDone: () => dialog.close() },
      ),
    )
  }
  askPassword()
}

/** View Recovery Codes: password → codes (used ones say so) → optionally Generate new codes. */
function viewRecoveryCodes(onFinished: () => void): void {
  const dialog = openDialog('Recovery codes')
  let confirmed = ''
  dialog.onClose(() => {
    confirmed = ''
    onFinished()
  })
  const showNew = (codes: string[]) => {
    dialog.setClosable(false)
    dialog.step(
      h('p', { class: 'success' }, 'Your new recovery codes. The old ones no longer work.'),
      codesPanel(
        codes.map((code) => ({ code, used: false })),
        { requireSaved: true, onDone: () => dialog.close() },
      ),
    )
  }
  const regenerate = async () => {
    const yes = await confirmStep(
      dialog,
      'Generate a new set of recovery codes? Your current codes stop working at once.',
      'Generate',
    )
    if (!yes) return
    const alert = alertBox()
    dialog.step(h('p', {}, 'Generating…'), alert)
    try {
      const result = await rpc<{ recoveryCodes: string[] }>('RegenerateRecoveryCodes', { password: confirmed })
      showNew(result.recoveryCodes)
    } catch (error) {
      describeErrorInto(alert, error, { password: true })
      dialog.step(alert, h('div', { class: 'actions' }, cancelButton(dialog, 'Close')))
    }
  }
  const showList = (codes: CodeRow[]) => {
    const left = codes.filter((row) => !row.used).length
    dialog.step(
      h('p', {}, `Each code works once. ${left} of ${codes.length} are still unused.`),
      codesPanel(codes, { requireSaved: false, onDone: () => dialog.close(), doneLabel: 'Close' }),
      h(
        'p',
        { class: 'regenerate' },
        'Lost them, or used most of them? ',
        h('button', { type: 'button', class: 'link', onclick: () => void regenerate() }, 'Generate new codes'),
      ),
    )
  }
  passwordStep(dialog, 'Confirm your password to see your recovery codes.', async (password) => {
    const result = await rpc<{ recoveryCodes: CodeRow[] }>('GetRecoveryCodes', { password })
    confirmed = password
    showList(result.recoveryCodes)
  })
}

/** Disable Two-Factor Authentication: confirm → password. */
function disable(onFinished: (message: string) => void): void {
  const dialog = openDialog('Disable two-factor authentication')
  let done = false
  dialog.onClose(() => onFinished(done ? 'Two-factor authentication is off.' : ''))
  void confirmStep(
    dialog,
    'Your account will be protected by your password alone: codes from your authenticator app and your recovery codes stop working.',
    'Disable',
  ).then((yes) => {
    if (!yes) return
    passwordStep(dialog, 'Confirm your password to disable two-factor authentication.', async (password) => {
      try {
        await rpc('Disable2FA', { password })
      } catch (error) {
        if (error instanceof RpcError && error.reason === 'FORBIDDEN')
          throw new RpcError('FORBIDDEN', 'Your organization requires two-factor authentication, so it stays on.')
        throw error
      }
      done = true
      dialog.close()
    })
  })
}

export function requirementNotice(status: Pick<TwoFactorStatus, 'enabled' | 'required' | 'requiredBy'>): Node | null {
  if (status.enabled || status.required !== true) return null
  return typeof status.requiredBy === 'string'
    ? h(
        'p',
        { class: 'notice' },
        'Your organization requires two-factor authentication by ',
        time(status.requiredBy, '—', true),
        '. Set it up before then to keep using your account.',
      )
    : h('p', { class: 'notice' }, 'Your organization requires two-factor authentication.')
}

/** The "Two-factor authentication" section of the signed-in page. */
export function twoFactorSection(say: (message: string) => void): { element: HTMLElement; refresh(): Promise<void> } {
  const body = h('div', {})
  const alert = alertBox()
  const element = h(
    'section',
    { 'aria-labelledby': 'h-2fa' },
    h('h2', { id: 'h-2fa' }, 'Two-factor authentication'),
    body,
    alert,
  )
  const refresh = async () => {
    try {
      const status = await rpc<TwoFactorStatus>('Get2FAStatus')
      alert.show(null)
      render(status)
    } catch (error) {
      describeErrorInto(alert, error)
    }
  }
  const render = (status: TwoFactorStatus) => {
    if (!status.enabled) {
      replace(
        body,
        requirementNotice(status),
        h(
          'p',
          {},
          'Off. Protect your account with a second step at sign-in: a code from an authenticator app on your phone.',
        ),
        h(
          'div',
          { class: 'actions' },
          h(
            'button',
            { type: 'button', class: 'primary', onclick: () => startSetup(() => void refresh()) },
            'Set Up Two-Factor Authentication',
          ),
        ),
      )
      return
    }
    const left = status.recoveryCodesLeft
    replace(
      body,
      h('p', {}, h('strong', {}, 'On'), ' since ', time(status.enabledAt), '. ', `${left} of 10 recovery codes left.`),
      left <= 3 ? h('p', { class: 'notice' }, 'You are running out of recovery codes: generate new ones.') : null,
      // The service refuses Disable2FA while required: say so instead of offering a step that fails.
      status.required ? h('p', {}, 'Your organization requires two-factor authentication, so it stays on.') : null,
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', onclick: () => viewRecoveryCodes(() => void refresh()) }, 'View Recovery Codes'),
        status.required
          ? null
          : h(
              'button',
              {
                type: 'button',
                class: 'danger',
                onclick: () =>
                  disable((message) => {
                    if (message !== '') say(message)
                    void refresh()
                  }),
              },
              'Disable Two-Factor Authentication',
            ),
      ),
    )
  }
  return { element, refresh }
}
