import { alertBox, busy, describeErrorInto, field, h, replace, uid } from './ui.js'

export interface Dialog {
  element: HTMLDialogElement
  /** Replaces the dialog's content (one step of a flow) and moves focus to its first control. */
  step(...nodes: (Node | null)[]): void
  /** Escape (and the close button) closes the dialog unless a step must be finished first. */
  setClosable(closable: boolean): void
  close(): void
  onClose(callback: () => void): void
}

const open = new Set<Dialog>()

/** Closes every dialog, e.g. when the session ends underneath them. */
export function closeAllDialogs(): void {
  for (const dialog of [...open]) dialog.close()
}

/**
 * A modal <dialog>: the browser keeps focus inside and makes the rest inert; we move focus to the
 * first control of each step and, on close, back to what opened it.
 */
export function openDialog(title: string): Dialog {
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null
  const titleId = uid('dialog-title')
  const body = h('div', { class: 'dialog-body' })
  const element = h('dialog', { 'aria-labelledby': titleId }, h('h2', { id: titleId }, title), body)
  const callbacks: (() => void)[] = []
  let closable = true
  element.addEventListener('cancel', (event) => {
    if (!closable) event.preventDefault()
  })
  element.addEventListener('close', () => {
    open.delete(dialog)
    element.remove()
    for (const callback of callbacks) callback()
    if (opener?.isConnected === true) opener.focus()
    else document.querySelector<HTMLElement>('h1')?.focus()
  })
  const dialog: Dialog = {
    element,
    step(...nodes) {
      replace(body, ...nodes)
      const first = body.querySelector<HTMLElement>(
        'input:not([disabled]):not([type=hidden]), textarea, select, button:not([disabled])',
      )
      first?.focus()
    },
    setClosable(value) {
      closable = value
    },
    close() {
      if (element.open) element.close()
    },
    onClose(callback) {
      callbacks.push(callback)
    },
  }
  document.body.appendChild(element)
  open.add(dialog)
  element.showModal()
  return dialog
}

export function cancelButton(dialog: Dialog, label = 'Cancel'): HTMLButtonElement {
  return h('button', { type: 'button', class: 'secondary', onclick: () => dialog.close() }, label)
}

/** A confirmation step: `text`, the action button (`danger` styled) and Cancel. */
export function confirmStep(dialog: Dialog, text: string, action: string): Promise<boolean> {
  return new Promise((resolve) => {
    dialog.onClose(() => resolve(false))
    const yes = h('button', { type: 'button', class: 'danger', onclick: () => resolve(true) }, action)
    dialog.step(h('p', {}, text), h('div', { class: 'actions' }, yes, cancelButton(dialog)))
    // Destructive steps start on Cancel: Enter on an unread dialog should not destroy anything.
    const cancel = dialog.element.querySelector<HTMLButtonElement>('button.secondary')
    cancel?.focus()
  })
}

/** A password confirmation step (field `Password`, button `Confirm` unless told otherwise). */
export function passwordStep(
  dialog: Dialog,
  intro: string,
  onConfirm: (password: string) => Promise<void>,
  action = 'Confirm',
  danger = false,
): void {
  const password = field('Password', { type: 'password', autocomplete: 'current-password', required: true })
  const alert = alertBox()
  const submit = h('button', { type: 'submit', class: danger ? 'danger' : 'primary' }, action)
  const form = h(
    'form',
    {
      novalidate: true,
      onsubmit: (event: Event) => {
        event.preventDefault()
        if (password.input.value === '') {
          alert.show('Enter your password.')
          password.input.focus()
          return
        }
        void busy(submit, async () => {
          alert.show(null)
          try {
            await onConfirm(password.input.value)
          } catch (error) {
            describeErrorInto(alert, error, { password: true })
            if (password.input.isConnected) {
              password.input.select()
              password.input.focus()
            }
          }
        })
      },
    },
    h('p', {}, intro),
    password.wrap,
    alert,
    h('div', { class: 'actions' }, submit, cancelButton(dialog)),
  )
  dialog.step(form)
}
