// The seed flow of the help pages in Chromium: set up 2FA (QR decoded independently, codes from the
// independent otpauth package), save the recovery codes, sign in with the app and with a recovery
// code, view and regenerate the codes, disable 2FA; axe on each main view.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import jsqr from 'jsqr'
import { PNG } from 'pngjs'
import type { Page } from 'playwright-core'
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

let service: PageService
let page: Page
let problems: string[]
let account: { login: string; password: string; accountId: string }
let totp: OTPAuth.TOTP
let recoveryCodes: string[] = []
const axeViolations: Record<string, number> = {}

before(async () => {
  service = await startPageService()
  ;({ page, problems } = await newContext(service))
  account = await service.t.signUp()
})
after(() => service.close())

const dialog = () => page.getByRole('dialog')
const stored = async () => String(await page.evaluate('JSON.stringify({...sessionStorage, ...localStorage})'))
const localStore = async () => String(await page.evaluate('JSON.stringify({...localStorage})'))
const activeText = async () =>
  String(await page.evaluate('document.activeElement && document.activeElement.textContent'))

async function signOut(): Promise<void> {
  await page.getByRole('button', { name: 'Sign out', exact: true }).click()
  await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor()
}

function decodeQr(dataUrl: string): { text: string; width: number } {
  const png = PNG.sync.read(Buffer.from(dataUrl.replace(/^data:image\/png;base64,/, ''), 'base64'))
  // jsqr is a UMD bundle: Node's ESM default import is module.exports, whose `default` is the decoder.
  const code = jsqr.default(new Uint8ClampedArray(png.data), png.width, png.height)
  assert.ok(code !== null, 'the QR code scans')
  return { text: code.data, width: png.width }
}

test('signed out: sign-in form by accessible name; a wrong password shows in role=alert', async () => {
  await page.goto(`${service.baseUrl}/account`)
  await page.getByRole('heading', { name: 'Sign in', exact: true }).waitFor()
  axeViolations['signed out'] = await checkAccessibility(page, 'the signed-out view')
  await screenshot(page, '01-signed-out')
  await signInOnPage(page, service.baseUrl, account.login, 'not-the-password')
  assert.match(await textOf(page.getByRole('alert')), /Wrong login or password/)
})

test('signed in: every section heading and Sign out; the session is not in localStorage', async () => {
  await signInOnPage(page, service.baseUrl, account.login, account.password)
  await waitSignedIn(page)
  for (const name of ['Account', 'Two-factor authentication', 'Sessions', 'Personal access tokens', 'Sign-in history'])
    await page.getByRole('heading', { name, exact: true }).waitFor()
  await page.getByRole('button', { name: 'Sign out', exact: true }).waitFor()
  await page.getByRole('button', { name: 'Set Up Two-Factor Authentication', exact: true }).waitFor()
  axeViolations['signed in'] = await checkAccessibility(page, 'the signed-in view')
  await screenshot(page, '02-signed-in')
  assert.match(await stored(), /lks_/, 'the session is held in sessionStorage')
  assert.doesNotMatch(await localStore(), /lk[s2pa]_/)
})

test('a dialog takes focus, Escape closes it, focus returns to its button', async () => {
  const setUp = page.getByRole('button', { name: 'Set Up Two-Factor Authentication', exact: true })
  await setUp.click()
  await dialog().getByLabel('Password', { exact: true }).waitFor()
  assert.equal(await page.evaluate('document.activeElement.type'), 'password')
  await page.keyboard.press('Escape')
  await until(async () => (await dialog().count()) === 0, 'dialog closed')
  assert.equal(await activeText(), 'Set Up Two-Factor Authentication')
})

test('set up 2FA: password, QR code that scans to the secret, code, recovery codes saved by Download', async () => {
  await page.getByRole('button', { name: 'Set Up Two-Factor Authentication', exact: true }).click()
  await dialog().getByLabel('Password', { exact: true }).fill('wrong-password-here')
  await dialog().getByRole('button', { name: 'Confirm', exact: true }).click()
  assert.match(await textOf(dialog().getByRole('alert')), /password is not right/)
  await dialog().getByLabel('Password', { exact: true }).fill(account.password)
  await dialog().getByRole('button', { name: 'Confirm', exact: true }).click()

  const qr = dialog().getByRole('img', { name: 'QR code', exact: true })
  await qr.waitFor()
  const { text: uri, width } = decodeQr(String(await qr.getAttribute('src')))
  const secret = (await textOf(dialog().locator('code.secret'))).trim()
  totp = OTPAuth.URI.parse(uri) as OTPAuth.TOTP
  assert.ok(totp instanceof OTPAuth.TOTP)
  assert.equal(totp.secret.base32, secret, 'the QR code carries the secret shown as text')
  assert.equal(totp.label.toLowerCase(), account.login.toLowerCase())
  assert.equal(totp.issuer, 'latchkey')
  assert.ok(width >= 150, `QR image ${width}px wide`)
  const box = await qr.boundingBox()
  assert.ok(box !== null && box.width >= 200, 'drawn at least 200 CSS px wide')
  // The countdown beside the code field.
  assert.match(await textOf(dialog().getByText(/changes every 30 seconds/)), /good for \d+ more second/)
  axeViolations['2FA setup dialog'] = await checkAccessibility(page, 'the 2FA setup dialog')
  await screenshot(page, '03-setup-qr')

  // The previous step's code: the sign-in below can then use the next one without waiting.
  await dialog()
    .getByLabel('Authentication code', { exact: true })
    .fill(await totpCode(totp, -1))
  await dialog().getByRole('button', { name: 'Next', exact: true }).click()

  const codes = dialog().getByRole('list', { name: 'Recovery codes' }).getByRole('listitem')
  await codes.first().waitFor()
  recoveryCodes = (await codes.allTextContents()).map((c) => c.trim())
  assert.equal(recoveryCodes.length, 10)
  for (const code of recoveryCodes) assert.match(code, /^[a-z0-9]{5}-[a-z0-9]{5}$/)
  const font = String(await page.evaluate("getComputedStyle(document.querySelector('dialog .codes code')).fontFamily"))
  assert.match(font, /mono/i)

  const done = dialog().getByRole('button', { name: 'Done', exact: true })
  const saved = dialog().getByRole('checkbox', { name: "I've saved the data", exact: true })
  assert.equal(await done.isDisabled(), true, 'Done stays disabled until the codes are saved')
  assert.equal(await saved.isChecked(), false)
  // Escape must not lose codes that were never saved.
  await page.keyboard.press('Escape')
  assert.equal(await dialog().count(), 1)
  axeViolations['recovery codes'] = await checkAccessibility(page, 'the recovery codes')
  await screenshot(page, '04-recovery-codes')

  const downloadEvent = page.waitForEvent('download')
  await dialog().getByRole('button', { name: 'Download', exact: true }).click()
  const download = await downloadEvent
  const file = await readFile(String(await download.path()), 'utf8')
  assert.deepEqual(file.trim().split('\n'), recoveryCodes, 'the file holds the 10 codes, one a line')
  assert.match(download.suggestedFilename(), /\.txt$/)
  assert.equal(await saved.isChecked(), true, 'Download ticks the checkbox')
  assert.equal(await done.isEnabled(), true)
  await done.click()
  await until(async () => (await dialog().count()) === 0, 'dialog closed')
  await page.getByRole('button', { name: 'View Recovery Codes', exact: true }).waitFor()
  await page.getByRole('button', { name: 'Disable Two-Factor Authentication', exact: true }).waitFor()
})

test('sign out ends the session; sign in again with a code from the app', async () => {
  const session = JSON.parse(await stored())['latchkey.session'] as string
  await signOut()
  assert.doesNotMatch(await stored(), /lks_/)
  const check = await service.t.rpc('GetSession', {}, { bearer: session })
  assert.equal(check.body.error?.data['reason'], 'UNAUTHENTICATED', 'the old session is over')

  // By keyboard alone: focus starts in Login and moves to the code field by itself.
  await page.getByLabel('Login', { exact: true }).waitFor()
  await page.keyboard.type(account.login)
  await page.keyboard.press('Tab')
  await page.keyboard.type(account.password)
  await page.keyboard.press('Enter')
  const code = page.getByLabel('Authentication code', { exact: true })
  await code.waitFor()
  assert.match(await textOf(page.getByText(/changes every 30 seconds/)), /\d+ more second/)
  assert.equal(await page.evaluate("document.activeElement.getAttribute('autocomplete')"), 'one-time-code')
  await page.keyboard.type('000000')
  await page.keyboard.press('Enter')
  assert.match(await textOf(page.getByRole('alert')), /not right.*attempts? left/)
  await code.fill(await totpCode(totp, 1))
  await page.keyboard.press('Enter')
  await waitSignedIn(page)
  await signOut()
})

test('lost phone: sign in with a recovery code, which then shows as used', async () => {
  await signInOnPage(page, service.baseUrl, account.login, account.password)
  await page.getByLabel('Authentication code', { exact: true }).fill(recoveryCodes[0]!.toUpperCase())
  await page.getByRole('button', { name: 'Verify', exact: true }).click()
  await waitSignedIn(page)
  assert.match(await textOf(page.getByRole('status').filter({ hasText: 'recovery code' })), /9 left/)

  await page.getByRole('button', { name: 'View Recovery Codes', exact: true }).click()
  await dialog().getByLabel('Password', { exact: true }).fill(account.password)
  await dialog().getByRole('button', { name: 'Confirm', exact: true }).click()
  const rows = dialog().getByRole('list', { name: 'Recovery codes' }).getByRole('listitem')
  await rows.first().waitFor()
  const texts = (await rows.allTextContents()).map((r) => r.replace(/\s+/g, ' ').trim())
  assert.equal(texts.length, 10)
  assert.equal(texts.filter((r) => /\bused\b/.test(r)).length, 1)
  assert.ok(
    texts.some((r) => r.startsWith(recoveryCodes[0]!) && /\bused\b/.test(r)),
    texts.join('|'),
  )
  axeViolations['viewed recovery codes'] = await checkAccessibility(page, 'the viewed recovery codes')
  await screenshot(page, '05-view-codes')
})

test('generate new codes: confirm, new set saved by Copy, the old set refused', async () => {
  await dialog().getByRole('button', { name: 'Generate new codes', exact: true }).click()
  await dialog().getByRole('button', { name: 'Generate', exact: true }).click()
  const rows = dialog().getByRole('list', { name: 'Recovery codes' }).getByRole('listitem')
  await dialog().getByText('The old ones no longer work').waitFor()
  const fresh = (await rows.allTextContents()).map((c) => c.trim())
  assert.equal(fresh.length, 10)
  assert.equal(fresh.filter((c) => recoveryCodes.includes(c)).length, 0)
  const done = dialog().getByRole('button', { name: 'Done', exact: true })
  assert.equal(await done.isDisabled(), true)
  await dialog().getByRole('button', { name: 'Copy', exact: true }).click()
  await until(
    async () => await dialog().getByRole('checkbox', { name: "I've saved the data", exact: true }).isChecked(),
    'Copy ticks the checkbox',
  )
  const clipboard = String(await page.evaluate('navigator.clipboard.readText()'))
  assert.deepEqual(clipboard.trim().split('\n'), fresh)
  await done.click()
  await until(async () => (await dialog().count()) === 0, 'dialog closed')

  // An unused code of the old set no longer signs in.
  const pending = await service.t.rpc('SignIn', { login: account.login, password: account.password })
  const token = pending.body.result?.['twoFactorToken']
  const refused = await service.t.rpc('Verify2FACode', { twoFactorToken: token, code: recoveryCodes[1] })
  assert.equal(refused.body.error?.data['reason'], 'INVALID_2FA_CODE')
  recoveryCodes = fresh
})

test('disable 2FA: confirm, then password', async () => {
  await page.getByRole('button', { name: 'Disable Two-Factor Authentication', exact: true }).click()
  await dialog().getByRole('button', { name: 'Disable', exact: true }).click()
  await dialog().getByLabel('Password', { exact: true }).fill(account.password)
  await dialog().getByRole('button', { name: 'Confirm', exact: true }).click()
  await page.getByRole('button', { name: 'Set Up Two-Factor Authentication', exact: true }).waitFor()
  const session = JSON.parse(await stored())['latchkey.session'] as string
  const status = await service.t.rpc('Get2FAStatus', {}, { bearer: session })
  assert.equal(status.body.result?.['enabled'], false)
  await page.getByRole('cell', { name: 'Two-factor authentication turned off', exact: true }).waitFor()
})

test('no console error, CSP report or request to another origin during the whole walk', () => {
  assert.deepEqual(problems, [])
  console.log(`axe violations (all impacts) per view: ${JSON.stringify(axeViolations)}`)
})
