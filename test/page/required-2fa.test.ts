// The operators' actions as the user lives them in the page, against the real admin API: 2FA
// required with a grace period and past its deadline (the restricted view, lifted by setting 2FA
// up), an account locked mid-session, and 2FA turned off by an operator, each visible in the
// user's own sign-in history with who acted and why.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import type { Page } from 'playwright-core'
import { ok, type Json } from '../support/calls.js'
import { keyOf, operators } from '../support/operators.js'
import { codeAt, enrolledAccount } from '../support/two-factor.js'
import {
  checkAccessibility,
  newContext,
  OTPAuth,
  screenshot,
  signInOnPage,
  startPageService,
  textOf,
  totpCode,
  until,
  waitSignedIn,
  type PageService,
} from './support.js'

const ops = operators('carol-oncall')
const operator = { bearer: keyOf(ops, 'carol-oncall') }

let service: PageService
let page: Page
let problems: string[]
// One account walks the requirement from grace period to setup.
let account: { login: string; password: string; accountId: string }

before(async () => {
  service = await startPageService(ops.env)
  ;({ page, problems } = await newContext(service))
  account = await service.t.signUp()
})
after(() => service.close())

const admin = (method: string, params: Json) => ok(service.t, 'rpc', method, params, operator)
const dialog = () => page.getByRole('dialog')
const heading = (name: string) => page.getByRole('heading', { name, exact: true })
const historyRow = (type: string) => page.locator(`tr[data-type="${type}"]`).first()

async function signOutOnPage(): Promise<void> {
  await page.getByRole('button', { name: 'Sign out', exact: true }).click()
  await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor()
}

async function expectRestricted(): Promise<void> {
  await page.getByText('Set it up to use your account again.').waitFor()
  await page.getByRole('button', { name: 'Sign out', exact: true }).waitFor()
  for (const name of ['Account', 'Sessions', 'Personal access tokens', 'Sign-in history'])
    assert.equal(await heading(name).count(), 0, `${name} hidden in the restricted view`)
  const buttons = await page.getByRole('button').allTextContents()
  assert.deepEqual(buttons.sort(), ['Set Up Two-Factor Authentication', 'Sign out'])
}

test('before the deadline: the notice shows the deadline; the page works as usual', async () => {
  const reason = 'policy SEC-7: 2FA for every engineer'
  const required = await admin('AdminRequire2FA', { login: account.login, required: true, graceDays: 7, reason })
  const deadline = String(required['twoFactorRequiredBy'])
  assert.equal(required['twoFactorRequired'], true)

  await signInOnPage(page, service.baseUrl, account.login, account.password)
  await waitSignedIn(page)
  // From Get2FAStatus `requiredBy`, in a machine-readable <time> and as a date.
  const notice = page.locator('section[aria-labelledby="h-2fa"] .notice')
  assert.match(await textOf(notice), /^Your organization requires two-factor authentication by .+\d{4}/)
  assert.equal(await notice.locator('time').getAttribute('datetime'), deadline)
  // SignIn's `twoFactorSetupRequiredBy` is announced in the status line too.
  await page.getByRole('status').getByText('Your organization requires two-factor authentication by').first().waitFor()
  await heading('Sessions').waitFor()
  await heading('Personal access tokens').waitFor()
  // The operator's action is in the user's own history: what, who, why.
  const row = historyRow('admin.2fa.required')
  const text = await textOf(row)
  assert.match(text, /required by an administrator/)
  assert.match(text, /By operator carol-oncall/)
  assert.match(text, new RegExp(`Reason: ${reason}`))
})

test('past the deadline: only 2FA setup and Sign out; setting it up lifts the restriction at once', async () => {
  await admin('AdminRequire2FA', {
    login: account.login,
    required: true,
    graceDays: 0,
    reason: 'incident INC-42: enforce now',
  })
  // The session the page holds is restricted now: the next refused call routes to the setup view.
  await page.getByRole('button', { name: 'Refresh history', exact: true }).click()
  await expectRestricted()
  await checkAccessibility(page, 'the restricted view')
  await screenshot(page, '10-restricted')

  // A reload finds it from GetSession; a new sign-in from SignIn's `twoFactorSetupRequired`.
  await page.reload()
  await expectRestricted()
  await signOutOnPage()
  await signInOnPage(page, service.baseUrl, account.login, account.password)
  await expectRestricted()

  await page.getByRole('button', { name: 'Set Up Two-Factor Authentication', exact: true }).click()
  await dialog().getByLabel('Password', { exact: true }).fill(account.password)
  await dialog().getByRole('button', { name: 'Confirm', exact: true }).click()
  const secret = await textOf(dialog().locator('code.secret'))
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) })
  await dialog()
    .getByLabel('Authentication code', { exact: true })
    .fill(await totpCode(totp))
  await dialog().getByRole('button', { name: 'Next', exact: true }).click()
  await dialog().getByRole('checkbox', { name: "I've saved the data", exact: true }).check()
  await dialog().getByRole('button', { name: 'Done', exact: true }).click()
  await until(async () => (await dialog().count()) === 0, 'dialog closed')
  // The same session, unrestricted: every section is back and loads.
  await heading('Sessions').waitFor()
  await page.getByRole('button', { name: 'View Recovery Codes', exact: true }).waitFor()
  await page.locator('ul.rows li.current').waitFor()
  await historyRow('2fa.enabled').waitFor()
  assert.equal(await page.getByText('Set it up to use your account again.').count(), 0)
  // Still required: turning it off is not offered (the service would refuse Disable2FA).
  await page.getByText('Your organization requires two-factor authentication, so it stays on.').waitFor()
  assert.equal(await page.getByRole('button', { name: 'Disable Two-Factor Authentication', exact: true }).count(), 0)
  await admin('AdminRequire2FA', { login: account.login, required: false, reason: 'policy SEC-7 withdrawn' })
  await page.reload()
  await page.getByRole('button', { name: 'Disable Two-Factor Authentication', exact: true }).waitFor()
  assert.deepEqual(problems, [])
})

test('locked by an operator: the next call returns to sign-in, and signing in says the account is locked', async () => {
  await signOutOnPage()
  const user = await service.t.signUp()
  await signInOnPage(page, service.baseUrl, user.login, user.password)
  await waitSignedIn(page)
  await admin('AdminLockAccount', { login: user.login, reason: 'incident INC-43: credential stuffing' })

  await page.getByRole('button', { name: 'Refresh history', exact: true }).click()
  await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor()
  assert.match(await textOf(page.getByRole('status')), /Your session has ended/)

  await signInOnPage(page, service.baseUrl, user.login, user.password)
  const alert = page.getByRole('alert').filter({ hasText: /\S/ })
  assert.match(await textOf(alert), /locked by an administrator/)
  assert.equal(await heading('Account').count(), 0)
  await screenshot(page, '11-locked')
  assert.deepEqual(problems, [])
})

test('2FA turned off by an operator: the page shows it off, and the history says who and why', async () => {
  const user = await enrolledAccount(service.t)
  await signInOnPage(page, service.baseUrl, user.login, user.password)
  await page.getByLabel('Authentication code', { exact: true }).fill(await codeAt(user.secret, 0))
  await page.getByRole('button', { name: 'Verify', exact: true }).click()
  await waitSignedIn(page)
  await page.getByRole('button', { name: 'Disable Two-Factor Authentication', exact: true }).waitFor()

  const reason = 'ticket SUP-1234: identity verified by video call'
  await admin('AdminDisable2FA', { login: user.login, reason })
  // Every session ended with it: the page returns to sign-in, and the password alone now signs in.
  await page.getByRole('button', { name: 'Refresh history', exact: true }).click()
  await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor()
  await signInOnPage(page, service.baseUrl, user.login, user.password)
  await waitSignedIn(page)
  await page.getByRole('button', { name: 'Set Up Two-Factor Authentication', exact: true }).waitFor()
  assert.equal(await page.getByRole('button', { name: 'View Recovery Codes', exact: true }).count(), 0)

  const row = historyRow('admin.2fa.disabled')
  const text = await textOf(row)
  assert.match(text, /turned off by an administrator/)
  assert.match(text, /By operator carol-oncall/)
  assert.ok(text.includes(`Reason: ${reason}`), text)
  await screenshot(page, '12-admin-event')
  assert.deepEqual(problems, [])
})
