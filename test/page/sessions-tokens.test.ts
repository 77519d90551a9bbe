// Sessions, personal access tokens, sign-in history and password change in Chromium, by
// accessible name; a 401 from any call returns the page to sign-in; readable at phone width.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import type { Page } from 'playwright-core'
import { call } from '../support/calls.js'
import {
  checkAccessibility,
  newContext,
  screenshot,
  signInOnPage,
  startPageService,
  textOf,
  until,
  waitSignedIn,
  type PageService,
} from './support.js'

let service: PageService
let page: Page
let problems: string[]
let account: { login: string; password: string; accountId: string }

before(async () => {
  service = await startPageService()
  ;({ page, problems } = await newContext(service))
  account = await service.t.signUp()
})
after(() => service.close())

const dialog = () => page.getByRole('dialog')
const sessionRows = () => page.getByRole('region', { name: 'Sessions' }).getByRole('listitem')
const tokenRows = () => page.getByRole('region', { name: 'Personal access tokens' }).getByRole('listitem')
const pageSession = async () =>
  JSON.parse(String(await page.evaluate('JSON.stringify({...sessionStorage})')))['latchkey.session'] as string
const sessionOk = async (credential: string) =>
  (await call(service.t, 'rpc', 'GetSession', {}, { bearer: credential })).ok

test('sessions: this one marked; end one; end all others', async () => {
  const other1 = await service.t.signIn(account.login, account.password)
  const other2 = await service.t.signIn(account.login, account.password)
  await signInOnPage(page, service.baseUrl, account.login, account.password)
  await waitSignedIn(page)
  await until(async () => (await sessionRows().count()) === 3, 'three sessions listed')
  const current = sessionRows().filter({ hasText: 'This session' })
  assert.equal(await current.count(), 1)
  assert.equal(await current.getByRole('button', { name: 'End session' }).count(), 0, 'no End on this session')

  await sessionRows()
    .filter({ hasNotText: 'This session' })
    .first()
    .getByRole('button', { name: 'End session' })
    .click()
  await dialog().getByRole('button', { name: 'End session', exact: true }).click()
  await until(async () => (await sessionRows().count()) === 2, 'one session ended')
  assert.equal([await sessionOk(other1), await sessionOk(other2)].filter(Boolean).length, 1)

  await page.getByRole('button', { name: 'End all other sessions', exact: true }).click()
  await dialog().getByRole('button', { name: 'End all other sessions', exact: true }).click()
  await until(async () => (await sessionRows().count()) === 1, 'only this session left')
  assert.equal(await sessionOk(other1), false)
  assert.equal(await sessionOk(other2), false)
  assert.equal(await sessionOk(await pageSession()), true)
  assert.equal(await page.getByRole('button', { name: 'End all other sessions' }).count(), 0, 'nothing left to end')
  await screenshot(page, '06-sessions')
})

test('a 401 from any call returns the page to sign-in', async () => {
  const elsewhere = await service.t.signIn(account.login, account.password)
  const ended = await call(service.t, 'rpc', 'SignOutSessions', { ids: '*' }, { bearer: elsewhere })
  assert.ok(ended.ok)
  await page.getByRole('button', { name: 'Refresh history', exact: true }).click()
  await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor()
  assert.match(await textOf(page.getByRole('status')), /session has ended/)
  assert.equal(await page.evaluate("sessionStorage.getItem('latchkey.session')"), null)
})

let token = ''

test('tokens: create with description, methods and expiry; shown once with Copy; listed', async () => {
  await signInOnPage(page, service.baseUrl, account.login, account.password)
  await waitSignedIn(page)
  await page.getByRole('button', { name: 'Create token', exact: true }).click()
  await dialog().getByLabel('Description', { exact: true }).fill('deploy script')
  await dialog().getByRole('radio', { name: 'Only the methods I choose' }).check()
  // The checklist is GetTokenApiList with every wildcard group, each method listed once.
  const catalog = await call(service.t, 'rpc', 'GetTokenApiList', {}, { bearer: await pageSession() })
  assert.ok(catalog.ok)
  const names = (catalog.result['methods'] as { name: string }[]).map((m) => m.name)
  const boxes = (await dialog()
    .getByRole('checkbox')
    .evaluateAll((els) => els.map((e) => e.getAttribute('value') ?? ''))) as string[]
  assert.deepEqual(boxes.filter((v) => !v.endsWith('.*')).sort(), [...names].sort())
  for (const group of ['environment.*', 'environment.control.*', 'billing.*', 'billing.account.*'])
    assert.ok(boxes.includes(group), group)
  await dialog()
    .getByRole('checkbox', { name: /^environment\.\*/ })
    .check()
  await dialog()
    .getByRole('checkbox', { name: /^GetSession\b/ })
    .check()
  const inThirtyDays = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10)
  await dialog().getByLabel('Expires on (optional)').fill(inThirtyDays)
  await dialog().getByLabel('Password', { exact: true }).fill(account.password)
  await checkAccessibility(page, 'the create-token dialog')
  await screenshot(page, '07-create-token')
  await dialog().getByRole('button', { name: 'Create', exact: true }).click()

  token = (await textOf(dialog().locator('code.token'))).trim()
  assert.match(token, /^lkp_[0-9A-Za-z]+$/)
  await dialog().getByRole('button', { name: 'Copy', exact: true }).click()
  await dialog().getByText('Copied').waitFor()
  assert.equal(await page.evaluate('navigator.clipboard.readText()'), token)
  await dialog().getByRole('button', { name: 'Done', exact: true }).click()
  await until(async () => (await dialog().count()) === 0, 'dialog closed')

  const row = tokenRows().filter({ hasText: 'deploy script' })
  await row.waitFor()
  const text = await textOf(row)
  assert.ok(text.includes(`lkp_…${token.slice(-4)}`), text)
  assert.match(text, /environment\.\*, GetSession|GetSession, environment\.\*/)
  assert.match(text, /never used/)
  assert.ok(!text.includes(token), 'the secret is not listed')

  // The token works for what it was granted; after use the list shows its last use.
  const used = await call(service.t, 'rpc', 'GetSession', {}, { bearer: token })
  assert.ok(used.ok)
  const listed = await call(service.t, 'rpc', 'GetTokens', {}, { bearer: await pageSession() })
  assert.ok(listed.ok)
  assert.ok(typeof (listed.result['tokens'] as { expiresAt: unknown }[])[0]?.expiresAt === 'string')
  await page.reload()
  await waitSignedIn(page)
  await until(async () => /last used/.test(await textOf(tokenRows().filter({ hasText: 'deploy script' }))), 'last use')
})

test('tokens: edit description and methods', async () => {
  await tokenRows().filter({ hasText: 'deploy script' }).getByRole('button', { name: 'Edit', exact: true }).click()
  await dialog().getByLabel('Description', { exact: true }).fill('deploy bot')
  await dialog().getByRole('radio', { name: 'All methods' }).check()
  await dialog().getByLabel('Password', { exact: true }).fill(account.password)
  await dialog().getByRole('button', { name: 'Save', exact: true }).click()
  const row = tokenRows().filter({ hasText: 'deploy bot' })
  await row.waitFor()
  assert.match(await textOf(row), /Methods: all/)
  const listed = await call(service.t, 'rpc', 'GetTokens', {}, { bearer: await pageSession() })
  assert.ok(listed.ok)
  assert.equal((listed.result['tokens'] as { apiList: unknown }[])[0]?.apiList, null)
})

test('tokens: regenerate (old secret dead, new shown once), then delete', async () => {
  await tokenRows().filter({ hasText: 'deploy bot' }).getByRole('button', { name: 'Regenerate', exact: true }).click()
  await dialog().getByLabel('Password', { exact: true }).fill(account.password)
  await dialog().getByRole('button', { name: 'Regenerate', exact: true }).click()
  const fresh = (await textOf(dialog().locator('code.token'))).trim()
  assert.match(fresh, /^lkp_/)
  assert.notEqual(fresh, token)
  assert.equal(await sessionOk(token), false)
  assert.equal(await sessionOk(fresh), true)
  await dialog().getByRole('button', { name: 'Done', exact: true }).click()

  await tokenRows().filter({ hasText: 'deploy bot' }).getByRole('button', { name: 'Delete', exact: true }).click()
  await dialog().getByLabel('Password', { exact: true }).fill('wrong-password-x')
  await dialog().getByRole('button', { name: 'Delete', exact: true }).click()
  assert.match(await textOf(dialog().getByRole('alert')), /password is not right/)
  await dialog().getByLabel('Password', { exact: true }).fill(account.password)
  await dialog().getByRole('button', { name: 'Delete', exact: true }).click()
  await tokenRows().filter({ hasText: 'No tokens yet' }).waitFor()
  assert.equal(await sessionOk(fresh), false)
})

test('sign-in history shows the events', async () => {
  await page.getByRole('button', { name: 'Refresh history', exact: true }).click()
  const history = page.getByRole('region', { name: 'Sign-in history' })
  for (const name of [
    'Account created',
    'Signed in',
    'Sessions ended',
    'Access token created',
    'Access token changed',
    'Access token regenerated',
    'Access token deleted',
  ])
    await history
      .getByRole('cell', { name: new RegExp(`^${name}`) })
      .first()
      .waitFor()
  await screenshot(page, '08-history')
})

test('change password: the other sessions end; the new password signs in', async () => {
  const other = await service.t.signIn(account.login, account.password)
  const next = `${account.password}-new`
  await page.getByLabel('Current password', { exact: true }).fill(account.password)
  await page.getByLabel('New password', { exact: true }).fill('password123')
  await page.getByRole('button', { name: 'Change password', exact: true }).click()
  assert.match(await textOf(page.getByRole('alert')), /^New password: /)
  await page.getByLabel('New password', { exact: true }).fill(next)
  await page.getByRole('button', { name: 'Change password', exact: true }).click()
  await page.getByRole('status').filter({ hasText: 'Password changed' }).waitFor()
  assert.equal(await sessionOk(other), false)
  assert.equal(await sessionOk(await pageSession()), true)
  await page.getByRole('button', { name: 'Sign out', exact: true }).click()
  await signInOnPage(page, service.baseUrl, account.login, next)
  await waitSignedIn(page)
  account.password = next
})

test('phone width: nothing wider than the screen', async () => {
  await page.setViewportSize({ width: 360, height: 780 })
  await page.getByRole('heading', { name: 'Sessions', exact: true }).waitFor()
  const overflow = Number(
    await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'),
  )
  assert.ok(overflow <= 0, `page is ${overflow}px wider than a phone screen`)
  await screenshot(page, '09-phone')
  assert.deepEqual(problems, [])
})
