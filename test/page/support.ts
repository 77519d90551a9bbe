/**
 * The account page under a real browser: Debian's Chromium driven by playwright-core (never a
 * downloaded browser), against a listening service on real Postgres and Redis.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdir, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core'
import { AxeBuilder } from '@axe-core/playwright'
import * as OTPAuth from 'otpauth'
import { accountPageDir } from '../../src/account-page.js'
import { buildAccountPage } from '../../scripts/build-page.js'
import { startTestApp, type TestApp } from '../support/app.js'
import { eventually } from '../support/calls.js'
import { listenOnLoopback } from '../support/raw-http.js'
import { codeAt } from '../support/two-factor.js'

export const CHROMIUM = '/usr/bin/chromium'
export const ARTIFACTS = 'test-artifacts'

/**
 * Tests run from a fresh clone too: build the page when `npm run build` has not. Test files run in
 * parallel, so each builds aside and renames into place; the first rename wins.
 */
export async function ensurePageBuilt(): Promise<void> {
  const dir = accountPageDir()
  if (existsSync(join(dir, 'index.html'))) return
  const aside = `${dir}.build-${process.pid}`
  await buildAccountPage(aside)
  try {
    await rename(aside, dir)
  } catch {
    await rm(aside, { recursive: true, force: true })
  }
}

export interface PageService {
  t: TestApp
  baseUrl: string
  browser: Browser
  close(): Promise<void>
}

export async function startPageService(env: Record<string, string> = {}): Promise<PageService> {
  await ensurePageBuilt()
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`)
  const t = await startTestApp(env)
  const port = await listenOnLoopback(t.app)
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  })
  await mkdir(ARTIFACTS, { recursive: true })
  return {
    t,
    baseUrl: `http://127.0.0.1:${port}`,
    browser,
    async close() {
      await browser.close()
      await t.close()
    },
  }
}

/** A context whose clipboard the page may use, with every console error and CSP report collected. */
export async function newContext(
  service: PageService,
  options: { width?: number; height?: number } = {},
): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await service.browser.newContext({
    viewport: { width: options.width ?? 1100, height: options.height ?? 900 },
    acceptDownloads: true,
  })
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: service.baseUrl })
  context.setDefaultTimeout(10_000)
  const page = await context.newPage()
  const problems: string[] = []
  page.on('console', (message) => {
    if (message.type() === 'error' && !/401|403|Failed to load resource/.test(message.text()))
      problems.push(message.text())
  })
  page.on('pageerror', (error) => problems.push(error.message))
  page.on('request', (request) => {
    if (!request.url().startsWith(service.baseUrl) && !/^(data|blob):/.test(request.url()))
      problems.push(`request to another origin: ${request.url()}`)
  })
  return { context, page, problems }
}

/** Dialog states are shot at the viewport, where the modal backdrop covers the page behind. */
export async function screenshot(page: Page, name: string): Promise<void> {
  const modal = (await page.getByRole('dialog').count()) > 0
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: !modal })
}

/** axe-core on the current state: no serious or critical violation. Returns the count of all violations. */
export async function checkAccessibility(page: Page, what: string): Promise<number> {
  const results = await new AxeBuilder({ page }).analyze()
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  assert.deepEqual(
    bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join('; ')})`),
    [],
    `axe on ${what}`,
  )
  console.log(`axe on ${what}: ${results.violations.length} violation(s) of any impact`)
  return results.violations.length
}

/** Polls until `probe` holds; Playwright's own auto-waiting covers actions, this covers reads. */
export async function until(probe: () => Promise<boolean>, what: string, withinMs = 10_000): Promise<void> {
  await eventually(probe, withinMs, what, 50)
}

export async function textOf(locator: Locator): Promise<string> {
  await locator.first().waitFor()
  return (await locator.first().textContent()) ?? ''
}

export async function signInOnPage(page: Page, baseUrl: string, login: string, password: string): Promise<void> {
  if (!page.url().startsWith(`${baseUrl}/account`)) await page.goto(`${baseUrl}/account`)
  await page.getByLabel('Login', { exact: true }).fill(login)
  await page.getByLabel('Password', { exact: true }).fill(password)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
}

export async function waitSignedIn(page: Page): Promise<void> {
  await page.getByRole('heading', { name: 'Account', exact: true }).waitFor()
}

/** A TOTP code `offsetSteps` away from now, from the independent `otpauth` package (see codeAt). */
export const totpCode = (totp: OTPAuth.TOTP, offsetSteps = 0): Promise<string> =>
  codeAt(totp.secret.base32, offsetSteps)

export { OTPAuth }
