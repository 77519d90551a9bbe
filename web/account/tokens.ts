import { cancelButton, openDialog, passwordStep, type Dialog } from './dialog.js'
import { rpc, type ApiMethod, type TokenRow } from './rpc.js'
import { alertBox, busy, copyText, describeErrorInto, field, h, replace, statusBox, time, uid } from './ui.js'

/** Every prefix wildcard the catalog's dotted names allow ("environment.*", "environment.control.*"). */
export function wildcardGroups(methods: ApiMethod[]): string[] {
  const groups = new Set<string>()
  for (const { name } of methods) {
    const parts = name.split('.')
    for (let i = 1; i < parts.length; i++) groups.add(`${parts.slice(0, i).join('.')}.*`)
  }
  return [...groups].sort()
}

/** "yyyy-mm-dd" of a date input → the end of that local day, as the API's ISO-8601 UTC. */
const endOfDay = (day: string) => new Date(`${day}T23:59:59`).toISOString()
const dayOf = (iso: string) => {
  const date = new Date(iso)
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`
}

interface TokenFormValues {
  description: string
  apiList: string[] | null
  expiresAt: string | null
}

/** Description, methods (all, or chosen names and wildcard groups) and an optional expiry day. */
function tokenFields(catalog: ApiMethod[], initial?: TokenRow): { nodes: Node[]; read(): TokenFormValues | string } {
  const description = field('Description', {
    type: 'text',
    maxlength: 200,
    required: true,
    value: initial?.description,
    placeholder: 'e.g. deploy script',
  })
  const chosen = new Set(initial?.apiList ?? [])
  const scopeName = uid('scope')
  const allRadio = h('input', { type: 'radio', name: scopeName, id: uid('all'), checked: initial?.apiList == null })
  const someRadio = h('input', { type: 'radio', name: scopeName, id: uid('some'), checked: initial?.apiList != null })
  const boxes: HTMLInputElement[] = []
  const option = (value: string, label: string, description: string | null, depth: number) => {
    const id = uid('method')
    const box = h('input', { type: 'checkbox', id, value, checked: chosen.has(value) })
    boxes.push(box)
    return h(
      'li',
      { class: `depth-${Math.min(depth, 3)}` },
      box,
      h('label', { for: id }, label, description === null ? null : h('span', { class: 'hint' }, ` — ${description}`)),
    )
  }
  const items: HTMLElement[] = []
  const groups = wildcardGroups(catalog)
  const standalone = catalog.filter((m) => !m.name.includes('.'))
  for (const m of standalone) items.push(option(m.name, m.name, m.description, 0))
  // Each wildcard comes just before what it covers: its direct methods, then its sub-groups (sorted).
  for (const group of groups) {
    const prefix = group.slice(0, -1)
    const segments = prefix.slice(0, -1).split('.')
    const depth = segments.length - 1
    items.push(option(group, group, `every ${segments.join('.')} method`, depth))
    for (const m of catalog)
      if (m.name.startsWith(prefix) && m.name.split('.').length === segments.length + 1)
        items.push(option(m.name, m.name, m.description, depth + 1))
  }
  const list = h('ul', { class: 'methods', hidden: initial?.apiList == null }, items)
  const toggle = () => {
    list.hidden = !someRadio.checked
  }
  allRadio.addEventListener('change', toggle)
  someRadio.addEventListener('change', toggle)
  const expires = field(
    'Expires on (optional)',
    { type: 'date', value: initial?.expiresAt == null ? undefined : dayOf(initial.expiresAt) },
    'Leave empty for a token that does not expire. It stops working at the end of that day.',
  )
  const methods = h(
    'fieldset',
    {},
    h('legend', {}, 'Methods'),
    h('div', { class: 'check' }, allRadio, h('label', { for: allRadio.id }, 'All methods')),
    h('div', { class: 'check' }, someRadio, h('label', { for: someRadio.id }, 'Only the methods I choose')),
    list,
  )
  return {
    nodes: [description.wrap, methods, expires.wrap],
    read() {
      const text = description.input.value.trim()
      if (text === '') return 'Enter a description, so you can tell your tokens apart.'
      let apiList: string[] | null = null
      if (someRadio.checked) {
        apiList = boxes.filter((box) => box.checked).map((box) => box.value)
        if (apiList.length === 0) return 'Choose at least one method, or select All methods.'
      }
      const day = expires.input.value
      return { description: text, apiList, expiresAt: day === '' ? null : endOfDay(day) }
    },
  }
}

/** The new secret, shown once, with Copy. */
function showSecret(dialog: Dialog, token: string, intro: string): void {
  const status = statusBox()
  const alert = alertBox()
  dialog.step(
    h('p', { class: 'success' }, intro),
    h('p', {}, "Copy it now: you won't be able to see it again."),
    h('p', {}, h('code', { class: 'token', 'aria-label': 'New token' }, token)),
    h(
      'div',
      { class: 'actions' },
      h(
        'button',
        {
          type: 'button',
          class: 'primary',
          onclick: async () => {
            if (await copyText(token)) status.show('Copied to the clipboard.')
            else alert.show('The browser did not allow copying. Select the token and copy it by hand.')
          },
        },
        'Copy',
      ),
      cancelButton(dialog, 'Done'),
    ),
    status,
    alert,
  )
}

/** Personal access tokens: create (shown once), list with last use, edit, regenerate, delete. */
export function tokensSection(say: (message: string) => void): { element: HTMLElement; refresh(): Promise<void> } {
  const list = h('ul', { class: 'rows' })
  const alert = alertBox()
  let catalog: ApiMethod[] = []
  const create = h('button', { type: 'button', class: 'primary' }, 'Create token')
  const element = h(
    'section',
    { 'aria-labelledby': 'h-tokens' },
    h('h2', { id: 'h-tokens' }, 'Personal access tokens'),
    h('p', {}, 'Tokens let scripts and tools call the API as you, limited to the methods you choose.'),
    h('div', { class: 'actions' }, create),
    list,
    alert,
  )
  const loadCatalog = async () => {
    if (catalog.length === 0) catalog = (await rpc<{ methods: ApiMethod[] }>('GetTokenApiList')).methods
    return catalog
  }

  const formDialog = async (title: string, initial: TokenRow | undefined, action: string) => {
    const methods = await loadCatalog()
    const dialog = openDialog(title)
    dialog.onClose(() => void refresh())
    const fields = tokenFields(methods, initial)
    const formAlert = alertBox()
    const form = passwordForm(dialog, fields.nodes, formAlert, action, async (password) => {
      const values = fields.read()
      if (typeof values === 'string') {
        formAlert.show(values)
        return
      }
      if (initial === undefined) {
        const created = await rpc<{ token: string }>('CreateToken', {
          password,
          description: values.description,
          ...(values.apiList === null ? {} : { apiList: values.apiList }),
          ...(values.expiresAt === null ? {} : { expiresAt: values.expiresAt }),
        })
        showSecret(dialog, created.token, `Token “${values.description}” created.`)
      } else {
        await rpc('EditToken', {
          id: initial.id,
          password,
          description: values.description,
          apiList: values.apiList,
          // An unchanged day is not sent again: it may lie in the past for an expired token.
          ...(values.expiresAt === initial.expiresAt ||
          (values.expiresAt !== null &&
            initial.expiresAt !== null &&
            dayOf(values.expiresAt) === dayOf(initial.expiresAt))
            ? {}
            : { expiresAt: values.expiresAt }),
        })
        dialog.close()
        say(`Token “${values.description}” saved.`)
      }
    })
    dialog.step(form)
  }

  create.addEventListener(
    'click',
    () =>
      void busy(create, () => formDialog('Create a personal access token', undefined, 'Create')).catch((error) =>
        describeErrorInto(alert, error),
      ),
  )

  const regenerate = (token: TokenRow) => {
    const dialog = openDialog('Regenerate token')
    dialog.onClose(() => void refresh())
    passwordStep(
      dialog,
      `The current secret of “${token.description}” stops working at once; whatever uses it needs the new one.`,
      async (password) => {
        const result = await rpc<{ token: string }>('RegenerateToken', { id: token.id, password })
        showSecret(dialog, result.token, `Token “${token.description}” regenerated.`)
      },
      'Regenerate',
      true,
    )
  }

  const remove = (token: TokenRow) => {
    const dialog = openDialog('Delete token')
    dialog.onClose(() => void refresh())
    passwordStep(
      dialog,
      `Delete “${token.description}”? Whatever uses it stops working at once. This cannot be undone.`,
      async (password) => {
        await rpc('DeleteTokens', { ids: [token.id], password })
        dialog.close()
        say(`Token “${token.description}” deleted.`)
      },
      'Delete',
      true,
    )
  }

  const refresh = async () => {
    try {
      const { tokens } = await rpc<{ tokens: TokenRow[] }>('GetTokens')
      alert.show(null)
      replace(
        list,
        tokens.length === 0
          ? h('li', {}, 'No tokens yet.')
          : tokens.map((token) =>
              h(
                'li',
                {},
                h(
                  'div',
                  {},
                  h('strong', {}, token.description),
                  ' ',
                  h('code', { class: 'hint-code' }, `lkp_…${token.hint}`),
                ),
                h('div', { class: 'meta' }, 'Methods: ', token.apiList === null ? 'all' : token.apiList.join(', ')),
                h(
                  'div',
                  { class: 'meta' },
                  'Created ',
                  time(token.createdAt),
                  ' · expires ',
                  time(token.expiresAt, 'never', true),
                  ' · ',
                  token.lastUsedAt === null
                    ? 'never used'
                    : h('span', {}, 'last used ', time(token.lastUsedAt), ` from ${token.lastUsedIp ?? 'unknown IP'}`),
                ),
                h(
                  'div',
                  { class: 'actions' },
                  h(
                    'button',
                    {
                      type: 'button',
                      class: 'secondary',
                      onclick: () =>
                        void formDialog(`Edit token “${token.description}”`, token, 'Save').catch((error) =>
                          describeErrorInto(alert, error),
                        ),
                    },
                    'Edit',
                  ),
                  h('button', { type: 'button', class: 'secondary', onclick: () => regenerate(token) }, 'Regenerate'),
                  h('button', { type: 'button', class: 'danger', onclick: () => remove(token) }, 'Delete'),
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

/** A form of `nodes` plus the password confirmation the ★ token methods need. */
function passwordForm(
  dialog: Dialog,
  nodes: Node[],
  formAlert: ReturnType<typeof alertBox>,
  action: string,
  onSubmit: (password: string) => Promise<void>,
): HTMLFormElement {
  const password = field(
    'Password',
    { type: 'password', autocomplete: 'current-password', required: true },
    'Changing tokens needs your password.',
  )
  const submit = h('button', { type: 'submit', class: 'primary' }, action)
  return h(
    'form',
    {
      novalidate: true,
      onsubmit: (event: Event) => {
        event.preventDefault()
        if (password.input.value === '') {
          formAlert.show('Enter your password.')
          password.input.focus()
          return
        }
        void busy(submit, async () => {
          formAlert.show(null)
          try {
            await onSubmit(password.input.value)
          } catch (error) {
            describeErrorInto(formAlert, error, { password: true })
          }
        })
      },
    },
    nodes,
    password.wrap,
    formAlert,
    h('div', { class: 'actions' }, submit, cancelButton(dialog)),
  )
}
