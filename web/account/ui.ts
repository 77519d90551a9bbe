/** A few DOM helpers: the page is plain DOM, built by these instead of a framework. */
import { describeError } from './rpc.js'
type Child = Node | string | null | undefined | false
type AttrValue = string | number | boolean | undefined | null
type Handler = (event: Event) => void
export type Attrs = Record<string, AttrValue | Handler>

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === 'function') element.addEventListener(name.slice(2).toLowerCase(), value)
    else if (value === true) element.setAttribute(name, '')
    else if (value !== false && value !== undefined && value !== null) element.setAttribute(name, String(value))
  }
  append(element, children)
  return element
}

export function append(parent: Node, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue
    parent.appendChild(typeof child === 'string' ? document.createTextNode(child) : child)
  }
}

/**
 * Replaces `parent`'s content. When focus was on a button inside it, the new button with the same
 * text gets it back, so re-rendering after a dialog does not drop a keyboard user's place.
 */
export function replace(parent: Element, ...children: (Child | Child[])[]): void {
  const focused = document.activeElement
  const label = focused instanceof HTMLButtonElement && parent.contains(focused) ? focused.textContent : null
  parent.replaceChildren()
  append(parent, children)
  if (label === null) return
  for (const button of parent.querySelectorAll('button'))
    if (button.textContent === label) {
      button.focus()
      return
    }
}

let nextId = 0
export const uid = (stem: string) => `${stem}-${++nextId}`

export interface Field {
  wrap: HTMLElement
  input: HTMLInputElement
}

/** A labelled input; `hint` becomes its description for screen readers. */
export function field(label: string, attrs: Attrs, hint?: Node | string): Field {
  const id = uid('field')
  const hintNode = hint === undefined ? null : typeof hint === 'string' ? h('p', { class: 'hint' }, hint) : hint
  if (hintNode instanceof HTMLElement && hintNode.id === '') hintNode.id = uid('hint')
  const input = h('input', {
    id,
    name: id,
    ...attrs,
    'aria-describedby': hintNode instanceof HTMLElement ? hintNode.id : undefined,
  })
  return { wrap: h('div', { class: 'field' }, h('label', { for: id }, label), input, hintNode), input }
}

/** An error line: role=alert, hidden while empty so that only real errors are announced and found. */
export function alertBox(): HTMLElement & { show(message: string | null): void } {
  const box = h('p', { role: 'alert', class: 'error', hidden: true })
  return Object.assign(box, {
    show(message: string | null) {
      box.textContent = message ?? ''
      box.hidden = message === null || message === ''
    },
  })
}

/** A polite status line for successes ("Copied."). */
export function statusBox(): HTMLElement & { show(message: string | null): void } {
  const box = h('p', { role: 'status', class: 'status' })
  return Object.assign(box, {
    show(message: string | null) {
      box.textContent = message ?? ''
    },
  })
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })
const dayFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'long' })

export function time(iso: string | null | undefined, fallback = '—', dayOnly = false): Node {
  if (iso === null || iso === undefined) return document.createTextNode(fallback)
  const date = new Date(iso)
  return h('time', { datetime: iso }, (dayOnly ? dayFormat : dateFormat).format(date))
}

export function formatDay(iso: string): string {
  return dayFormat.format(new Date(iso))
}

/** Runs `action` with the button disabled, so a double click does not send twice. */
export async function busy<T>(button: HTMLButtonElement, action: () => Promise<T>): Promise<T | undefined> {
  if (button.disabled) return undefined
  button.disabled = true
  button.setAttribute('aria-busy', 'true')
  try {
    return await action()
  } finally {
    button.disabled = false
    button.removeAttribute('aria-busy')
  }
}

/**
 * A hint beside a TOTP field: the current code changes every 30 seconds, so say how long it has.
 * Not a live region: announcing every second would drown a screen reader.
 */
export function totpHint(extra = ''): HTMLElement {
  const hint = h('p', { class: 'hint', id: uid('hint') })
  const tick = () => {
    const left = 30 - (Math.floor(Date.now() / 1000) % 30)
    hint.textContent = `${extra}The code in your app changes every 30 seconds; the current one is good for ${left} more second${left === 1 ? '' : 's'}.`
  }
  tick()
  const timer = window.setInterval(() => {
    if (!hint.isConnected) {
      window.clearInterval(timer)
      return
    }
    tick()
  }, 1000)
  return hint
}

/** Saves `text` as a file the browser downloads. */
export function download(filename: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }))
  const link = h('a', { href: url, download: filename, hidden: true })
  document.body.appendChild(link)
  link.click()
  link.remove()
  window.setTimeout(() => URL.revokeObjectURL(url), 1000)
}

export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text)
    return true
  } catch {
    return false
  }
}

/** Shows what went wrong in `alert`, unless the page already reacted (session over, setup required). */
export function describeErrorInto(
  alert: { show(message: string | null): void },
  error: unknown,
  context: { password?: boolean } = {},
): void {
  const message = describeError(error, context)
  if (message !== null) alert.show(message)
}
