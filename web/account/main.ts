import './styles.css'
import { accountSection } from './account.js'
import { historySection, sessionsSection } from './activity.js'
import { closeAllDialogs } from './dialog.js'
import { Handled, rpc, session, setHooks, type SessionInfo, type TwoFactorStatus } from './rpc.js'
import { renderSignIn, type SignedIn } from './sign-in.js'
import { tokensSection } from './tokens.js'
import { startSetup, twoFactorSection } from './two-factor.js'
import { formatDay, h, replace, statusBox, time } from './ui.js'

const root = document.getElementById('app') as HTMLElement

function showSignIn(notice: string | null): void {
  closeAllDialogs()
  renderSignIn(root, notice, (result: SignedIn) => {
    if (result.setupRequired) void showRestricted()
    else if (result.setupRequiredBy !== undefined)
      void showAccount(
        `Your organization requires two-factor authentication by ${formatDay(result.setupRequiredBy)}. Set it up below.`,
      )
    else
      void showAccount(
        result.recoveryCodesLeft === undefined
          ? null
          : `You signed in with a recovery code; it cannot be used again. ${result.recoveryCodesLeft} left.`,
      )
  })
}

async function signOut(): Promise<void> {
  let notice = 'You signed out.'
  try {
    await rpc('SignOut')
  } catch (error) {
    if (error instanceof Handled) return
    // Forgotten here either way; say so if the service may still hold the session.
    notice =
      'You signed out on this device, but the service could not be reached to end the session. End it under Sessions next time.'
  }
  session.clear()
  showSignIn(notice)
}

function topBar(login: string): HTMLElement {
  return h(
    'header',
    { class: 'bar' },
    h('span', { class: 'brand' }, 'latchkey'),
    h('span', { class: 'who' }, login),
    h('button', { type: 'button', class: 'secondary', onclick: () => void signOut() }, 'Sign out'),
  )
}

/** The signed-in page: every section, each loading its own data. */
async function showAccount(notice: string | null): Promise<void> {
  let info: SessionInfo
  try {
    info = await rpc<SessionInfo>('GetSession')
  } catch (error) {
    if (!(error instanceof Handled)) showSignIn('The service could not be reached. Sign in again.')
    return
  }
  if (info.twoFactorSetupRequired === true) return showRestricted()
  closeAllDialogs()
  const status = statusBox()
  status.show(notice)
  const say = (message: string) => {
    status.show(message)
    void history.refresh()
  }
  const twoFactor = twoFactorSection(say)
  const sessions = sessionsSection(say)
  const tokens = tokensSection(say)
  const history = historySection()
  const heading = h('h1', { tabindex: -1 }, 'Account settings')
  replace(
    root,
    topBar(info.login),
    h(
      'div',
      { class: 'page' },
      heading,
      status,
      accountSection(info.login, say),
      twoFactor.element,
      sessions.element,
      tokens.element,
      history.element,
    ),
  )
  heading.focus()
  await Promise.all([twoFactor.refresh(), sessions.refresh(), tokens.refresh(), history.refresh()])
}

/**
 * Past an operator's deadline without 2FA: only setting it up (or signing out) is open. The
 * sections load in parallel, so several refusals may arrive at once: one view is drawn.
 */
let restricting: Promise<void> | null = null
function showRestricted(): Promise<void> {
  restricting ??= drawRestricted().finally(() => {
    restricting = null
  })
  return restricting
}

async function drawRestricted(): Promise<void> {
  closeAllDialogs()
  let info: SessionInfo
  let status: TwoFactorStatus
  try {
    ;[info, status] = await Promise.all([rpc<SessionInfo>('GetSession'), rpc<TwoFactorStatus>('Get2FAStatus')])
  } catch (error) {
    if (!(error instanceof Handled)) showSignIn('The service could not be reached. Sign in again.')
    return
  }
  const heading = h('h1', { tabindex: -1 }, 'Account settings')
  replace(
    root,
    topBar(info.login),
    h(
      'div',
      { class: 'page' },
      heading,
      h(
        'section',
        { 'aria-labelledby': 'h-2fa' },
        h('h2', { id: 'h-2fa' }, 'Two-factor authentication'),
        h(
          'p',
          { class: 'notice' },
          'Your organization requires two-factor authentication',
          typeof status.requiredBy === 'string' ? ['; the deadline was ', time(status.requiredBy, '—', true)] : null,
          '. Set it up to use your account again.',
        ),
        h('p', {}, 'Until then you can only set it up or sign out.'),
        h(
          'div',
          { class: 'actions' },
          h(
            'button',
            { type: 'button', class: 'primary', onclick: () => startSetup(() => void showAccount(null)) },
            'Set Up Two-Factor Authentication',
          ),
        ),
      ),
    ),
  )
  heading.focus()
}

setHooks({
  unauthenticated: () => showSignIn('Your session has ended. Please sign in again.'),
  setupRequired: () => void showRestricted(),
})

if (session.get() === null) showSignIn(null)
else void showAccount(null)
