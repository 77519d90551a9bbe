import { confirmStep, openDialog } from './dialog.js'
import { rpc, type HistoryEvent, type SessionRow } from './rpc.js'
import { alertBox, busy, describeErrorInto, h, replace, time } from './ui.js'

/** "Chrome on Linux" from a user agent, or the raw string when it is unusual. */
export function describeAgent(userAgent: string | null): string {
  if (userAgent === null || userAgent === '') return 'Unknown device'
  const browser = /Edg\//.test(userAgent)
    ? 'Edge'
    : /Firefox\//.test(userAgent)
      ? 'Firefox'
      : /Chrom(e|ium)\//.test(userAgent)
        ? 'Chrome'
        : /Safari\//.test(userAgent)
          ? 'Safari'
          : null
  const os = /Android/.test(userAgent)
    ? 'Android'
    : /iPhone|iPad/.test(userAgent)
      ? 'iOS'
      : /Windows/.test(userAgent)
        ? 'Windows'
        : /Mac OS X/.test(userAgent)
          ? 'macOS'
          : /Linux/.test(userAgent)
            ? 'Linux'
            : null
  if (browser === null) return userAgent.slice(0, 60)
  return os === null ? browser : `${browser} on ${os}`
}

/** Sessions: every signed-in device, this one marked; end one or all others. */
export function sessionsSection(say: (message: string) => void): { element: HTMLElement; refresh(): Promise<void> } {
  const list = h('ul', { class: 'rows' })
  const alert = alertBox()
  const endOthers = h('button', { type: 'button', class: 'danger' }, 'End all other sessions')
  const endOthersRow = h('div', { class: 'actions' }, endOthers)
  const element = h(
    'section',
    { 'aria-labelledby': 'h-sessions' },
    h('h2', { id: 'h-sessions' }, 'Sessions'),
    h('p', {}, 'Where your account is signed in. End any session you do not recognise.'),
    list,
    alert,
    endOthersRow,
  )
  const end = async (ids: string[] | '*', question: string, action: string) => {
    const dialog = openDialog(action)
    const yes = await confirmStep(dialog, question, action)
    if (!yes) return
    dialog.close()
    try {
      const result = await rpc<{ count: number }>('SignOutSessions', { ids })
      say(`Ended ${result.count} session${result.count === 1 ? '' : 's'}.`)
    } catch (error) {
      describeErrorInto(alert, error)
    }
    await refresh()
  }
  endOthers.addEventListener(
    'click',
    () => void end('*', 'Sign out every other device and browser? This one stays signed in.', 'End all other sessions'),
  )
  const refresh = async () => {
    try {
      const { sessions } = await rpc<{ sessions: SessionRow[] }>('GetSessions')
      alert.show(null)
      endOthersRow.hidden = sessions.filter((row) => !row.current).length === 0
      replace(
        list,
        sessions.map((row) =>
          h(
            'li',
            { class: row.current ? 'current' : undefined },
            h(
              'div',
              {},
              h('strong', {}, describeAgent(row.userAgent)),
              row.current ? h('span', { class: 'badge' }, 'This session') : null,
            ),
            h(
              'div',
              { class: 'meta' },
              `IP ${row.ip ?? 'unknown'} · signed in `,
              time(row.createdAt),
              ' · last active ',
              time(row.lastSeenAt),
            ),
            row.current
              ? null
              : h(
                  'button',
                  {
                    type: 'button',
                    class: 'secondary',
                    onclick: (event: Event) =>
                      void busy(event.currentTarget as HTMLButtonElement, () =>
                        end(
                          [row.id],
                          `Sign out ${describeAgent(row.userAgent)} (IP ${row.ip ?? 'unknown'})?`,
                          'End session',
                        ),
                      ),
                  },
                  'End session',
                ),
          ),
        ),
      )
    } catch (error) {
      describeErrorInto(alert, error)
    }
  }
  return { element, refresh }
}

const eventNames: Record<string, string> = {
  'signin.success': 'Signed in',
  'signin.failure': 'Failed sign-in',
  '2fa.success': 'Two-factor code accepted',
  '2fa.failure': 'Wrong two-factor code',
  'recovery.used': 'Recovery code used',
  '2fa.enabled': 'Two-factor authentication turned on',
  '2fa.disabled': 'Two-factor authentication turned off',
  'recovery.regenerated': 'New recovery codes generated',
  'password.changed': 'Password changed',
  'token.created': 'Access token created',
  'token.edited': 'Access token changed',
  'token.regenerated': 'Access token regenerated',
  'token.deleted': 'Access token deleted',
  'sessions.revoked': 'Sessions ended',
  signup: 'Account created',
  signout: 'Signed out',
  'admin.2fa.disabled': 'Two-factor authentication turned off by an administrator',
  'admin.2fa.required': 'Two-factor authentication required by an administrator',
  'admin.locked': 'Account locked by an administrator',
  'admin.unlocked': 'Account unlocked by an administrator',
  'admin.signed_out': 'Signed out by an administrator',
}

/**
 * The event's own words under its name. An operator's action says who acted (the operator key's
 * name) and why, so the user can question it; other events carry a reason or a token description.
 */
function eventDetail(event: HistoryEvent): Node | null {
  const detail = event.detail
  if (detail === null || detail === undefined) return null
  const text = (key: string) => (typeof detail[key] === 'string' && detail[key] !== '' ? String(detail[key]) : null)
  const admin = text('admin')
  const reason = text('reason')
  if (event.type.startsWith('admin.') || admin !== null)
    return h(
      'div',
      { class: 'meta' },
      `By operator ${admin ?? 'unknown'}`,
      reason === null ? null : h('br', {}),
      reason === null ? null : `Reason: ${reason}`,
    )
  const said = reason ?? text('description')
  return said === null ? null : h('div', { class: 'meta' }, said)
}

/** Sign-in history: the account's security events, newest first. */
export function historySection(): { element: HTMLElement; refresh(): Promise<void> } {
  const tbody = h('tbody', {})
  const alert = alertBox()
  const refreshButton = h('button', { type: 'button', class: 'secondary' }, 'Refresh history')
  const element = h(
    'section',
    { 'aria-labelledby': 'h-history' },
    h('h2', { id: 'h-history' }, 'Sign-in history'),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        {},
        h('caption', { class: 'visually-hidden' }, 'Recent security events, newest first'),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col' }, 'Event'),
            h('th', { scope: 'col' }, 'When'),
            h('th', { scope: 'col' }, 'IP address'),
            h('th', { scope: 'col' }, 'Device'),
          ),
        ),
        tbody,
      ),
    ),
    alert,
    h('div', { class: 'actions' }, refreshButton),
  )
  const refresh = async () => {
    try {
      const { events } = await rpc<{ events: HistoryEvent[] }>('GetSigninHistory', { limit: 50 })
      alert.show(null)
      replace(
        tbody,
        events.length === 0
          ? h('tr', {}, h('td', { colspan: 4 }, 'No events yet.'))
          : events.map((event) =>
              h(
                'tr',
                { 'data-type': event.type },
                h('td', {}, h('div', {}, eventNames[event.type] ?? event.type), eventDetail(event)),
                h('td', {}, time(event.at)),
                h('td', {}, event.ip ?? '—'),
                h('td', {}, describeAgent(event.userAgent)),
              ),
            ),
      )
    } catch (error) {
      describeErrorInto(alert, error)
    }
  }
  refreshButton.addEventListener('click', () => void busy(refreshButton, refresh))
  return { element, refresh }
}
