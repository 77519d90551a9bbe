import { rpc } from './rpc.js'
import { alertBox, busy, describeErrorInto, field, h } from './ui.js'

/** Account: who is signed in, and Change password (the other sessions end; this one stays). */
export function accountSection(login: string, say: (message: string) => void): HTMLElement {
  const current = field('Current password', { type: 'password', autocomplete: 'current-password', required: true })
  const next = field(
    'New password',
    { type: 'password', autocomplete: 'new-password', required: true, minlength: 8 },
    'At least 8 characters. Common passwords and passwords containing your login are refused.',
  )
  const alert = alertBox()
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Change password')
  const form = h(
    'form',
    {
      novalidate: true,
      'aria-labelledby': 'h-password',
      onsubmit: (event: Event) => {
        event.preventDefault()
        if (current.input.value === '' || next.input.value === '') {
          alert.show('Enter your current password and a new one.')
          return
        }
        void busy(submit, async () => {
          alert.show(null)
          try {
            await rpc('ChangePassword', { password: current.input.value, newPassword: next.input.value })
            form.reset()
            say('Password changed. Your other sessions were signed out.')
          } catch (error) {
            describeErrorInto(alert, error, { password: true })
          }
        })
      },
    },
    h('h3', { id: 'h-password' }, 'Change password'),
    current.wrap,
    next.wrap,
    alert,
    h('div', { class: 'actions' }, submit),
  )
  return h(
    'section',
    { 'aria-labelledby': 'h-account' },
    h('h2', { id: 'h-account' }, 'Account'),
    h('p', {}, 'Signed in as ', h('strong', { class: 'login' }, login), '.'),
    form,
  )
}
