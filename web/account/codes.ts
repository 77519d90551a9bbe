import { alertBox, copyText, download, h, statusBox, uid } from './ui.js'

export interface CodeRow {
  code: string
  used: boolean
}

export const RECOVERY_FILE = 'latchkey-recovery-codes.txt'

/**
 * Recovery codes in a monospace grid with Download and Copy. With `requireSaved`, the checkbox
 * "I've saved the data" must be ticked (Download or Copy tick it) before Done is enabled.
 */
export function codesPanel(
  codes: CodeRow[],
  options: { requireSaved: boolean; onDone: () => void; doneLabel?: string },
): HTMLElement {
  const usable = codes.filter((row) => !row.used).map((row) => row.code)
  const text = usable.join('\n') + '\n'
  const status = statusBox()
  const alert = alertBox()
  const list = h(
    'ul',
    { class: 'codes', 'aria-label': 'Recovery codes' },
    codes.map((row) =>
      h(
        'li',
        { class: row.used ? 'used' : undefined },
        h('code', {}, row.code),
        row.used ? h('span', { class: 'used-label' }, ' used') : null,
      ),
    ),
  )
  const saved = h('input', { type: 'checkbox', id: uid('saved') })
  const done = h(
    'button',
    { type: 'button', class: 'primary', onclick: () => options.onDone() },
    options.doneLabel ?? 'Done',
  )
  const markSaved = () => {
    saved.checked = true
    done.disabled = false
  }
  saved.addEventListener('change', () => {
    done.disabled = !saved.checked
  })
  done.disabled = options.requireSaved
  const downloadButton = h(
    'button',
    {
      type: 'button',
      onclick: () => {
        download(RECOVERY_FILE, text)
        markSaved()
        status.show(`Saved as ${RECOVERY_FILE}.`)
      },
    },
    'Download',
  )
  const copyButton = h(
    'button',
    {
      type: 'button',
      onclick: async () => {
        if (await copyText(text)) {
          markSaved()
          alert.show(null)
          status.show('Copied to the clipboard.')
        } else {
          alert.show('The browser did not allow copying. Select the codes and copy them by hand, or use Download.')
        }
      },
    },
    'Copy',
  )
  return h(
    'div',
    { class: 'codes-panel' },
    list,
    h('div', { class: 'actions' }, downloadButton, copyButton),
    status,
    alert,
    options.requireSaved
      ? h('div', { class: 'check' }, saved, h('label', { for: saved.id }, "I've saved the data"))
      : null,
    h('div', { class: 'actions' }, done),
  )
}
