// An operator's "2FA required" as the page shows it. The admin API is built in parallel; until it
// lands, the replies the contract fixes for that state (Get2FAStatus `required`/`requiredBy`,
// GetSession `twoFactorSetupRequired`, FORBIDDEN with `data.twoFactorSetupRequired`) are laid over
// the real service's replies here, and the setup itself runs on the real service.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import type { Page, Route } from 'playwright-core'
import {
  checkAccessibility,
  newContext,
  OTPAuth,
  screenshot,
  signInOnPage,
  startPageService,
  totpCode,
  until,
  waitSignedIn,
  type PageService,
} from './support.js'

let service: PageService
let page: Page
let problems: string[]
let account: { login: string; password: string; accountId: string }
let state: 'grace' | 'overdue' | 'off' = 'off'
const deadline = '2031-03-15T12:00:00.000Z'
const allowedWhenOverdue = new Set(['GetSession', 'Get2FAStatus', 'Get2FAConfig', 'Enable2FA', 'SignOut'])

async function overlay(route: Route): Promise<void> {
  const request = JSON.parse(route.request().postData() ?? '{}') as { id: number; method: string }
  if (state === 'overdue' && !allowedWhenOverdue.has(request.method)) {
    await route.fulfill({
      json: {
        jsonrpc: '2.0',
        id: request.id,
        error: {
          code: -32004,
          message: 'Set up two-factor authentication first.',
          data: { reason: 'FORBIDDEN', twoFactorSetupRequired: true },
        },
      },
    })
    return
  }
  const response = await route.fetch()
  const body = (await response.json()) as { result?: Record<string, unknown> }
  if (body.result !== undefined && state !== 'off') {
    if (request.method === 'Get2FAStatus' && body.result['enabled'] === false)
      Object.assign(body.result, { required: true, requiredBy: deadline })
    if (request.method === 'GetSession' && state === 'overdue' && body.result['twoFactorEnabled'] === false)
      body.result['twoFactorSetupRequired'] = true
  }
  await route.fulfill({ response, json: body })
}

before(async () => {
  service = await startPageService()
  ;({ page, problems } = await newContext(service))
  account = await service.t.signUp()
  await page.route('**/rpc', overlay)
})
after(() => service.close())

const dialog = () => page.getByRole('dialog')

test('before the deadline: a notice names the date; the page works as usual', async () => {
  state = 'grace'
  await signInOnPage(page, service.baseUrl, account.login, account.password)
  await waitSignedIn(page)
  const notice = page.getByText('Your organization requires two-factor authentication by')
  await notice.waitFor()
  assert.match(String(await notice.textContent()), /2031/)
  await page.getByRole('heading', { name: 'Sessions', exact: true }).waitFor()
})

test('past the deadline: only 2FA setup and Sign out; setting it up opens the whole page', async () => {
  state = 'overdue'
  // Any refused call routes the page to the restricted view.
  await page.getByRole('button', { name: 'Refresh history', exact: true }).click()
  await page.getByText('The deadline has passed').waitFor()
  await page.getByRole('button', { name: 'Sign out', exact: true }).waitFor()
  for (const name of ['Sessions', 'Personal access tokens', 'Sign-in history'])
    assert.equal(await page.getByRole('heading', { name, exact: true }).count(), 0, `${name} hidden`)
  assert.equal(await page.getByRole('button').count(), 2, 'Set Up and Sign out only')
  await checkAccessibility(page, 'the restricted view')
  await screenshot(page, '10-restricted')

  await page.getByRole('button', { name: 'Set Up Two-Factor Authentication', exact: true }).click()
  await dialog().getByLabel('Password', { exact: true }).fill(account.password)
  await dialog().getByRole('button', { name: 'Confirm', exact: true }).click()
  const secret = String(await dialog().locator('code.secret').textContent())
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) })
  await dialog()
    .getByLabel('Authentication code', { exact: true })
    .fill(await totpCode(totp))
  await dialog().getByRole('button', { name: 'Next', exact: true }).click()
  await dialog().getByRole('checkbox', { name: "I've saved the data", exact: true }).check()
  await dialog().getByRole('button', { name: 'Done', exact: true }).click()
  state = 'off'
  await until(async () => (await dialog().count()) === 0, 'dialog closed')
  await page.getByRole('heading', { name: 'Sessions', exact: true }).waitFor()
  await page.getByRole('button', { name: 'View Recovery Codes', exact: true }).waitFor()
  assert.deepEqual(
    problems.filter((p) => !/403/.test(p)),
    [],
  )
})
