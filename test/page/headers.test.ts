// GET /account: the page's HTML and assets, their cache and security headers, and the off switch.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startTestApp, type TestApp } from '../support/app.js'
import { ensurePageBuilt } from './support.js'

let t: TestApp
before(async () => {
  await ensurePageBuilt()
  t = await startTestApp()
})
after(() => t.close())

const get = (url: string, app = t) => app.app.inject({ method: 'GET', url })

function assetUrls(html: string): string[] {
  return [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '')
}

test('the HTML is no-store, under a strict CSP, with no inline script or style', async () => {
  const reply = await get('/account')
  assert.equal(reply.statusCode, 200)
  assert.match(String(reply.headers['content-type']), /^text\/html/)
  assert.equal(reply.headers['cache-control'], 'no-store')
  const csp = String(reply.headers['content-security-policy'])
  for (const directive of [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ])
    assert.ok(csp.includes(directive), `CSP has ${directive}: ${csp}`)
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*|https?:/)
  assert.equal(reply.headers['referrer-policy'], 'no-referrer')
  assert.equal(reply.headers['x-content-type-options'], 'nosniff')
  assert.equal(reply.headers['x-frame-options'], 'DENY')
  // No inline script and no style attribute: every script has a src, nothing carries style=.
  assert.doesNotMatch(reply.body, /<script(?![^>]*\bsrc=)[^>]*>/)
  assert.doesNotMatch(reply.body, /\sstyle=/)
  const urls = assetUrls(reply.body)
  assert.equal(urls.length, 2)
  for (const url of urls) assert.match(url, /^\/account\/assets\/main-[A-Z0-9]{8}\.(js|css)$/)
  assert.equal((await get('/account/')).statusCode, 200)
})

test('fingerprinted assets are immutable for a year; unknown ones are the contract 404', async () => {
  const html = (await get('/account')).body
  for (const url of assetUrls(html)) {
    const reply = await get(url)
    assert.equal(reply.statusCode, 200, url)
    assert.equal(reply.headers['cache-control'], 'public, max-age=31536000, immutable')
    assert.match(String(reply.headers['content-type']), url.endsWith('.js') ? /javascript/ : /text\/css/)
    assert.equal(reply.headers['x-content-type-options'], 'nosniff')
    // The bundle loads nothing from elsewhere.
    assert.doesNotMatch(reply.body, /https?:\/\/(?!www\.w3\.org)/)
  }
  const missing = await get('/account/assets/main-AAAAAAAA.js')
  assert.equal(missing.statusCode, 404)
  assert.equal(missing.headers['cache-control'], 'no-store')
  assert.equal(JSON.parse(missing.body).error.data.reason, 'METHOD_NOT_FOUND')
})

test('/rpc stays lean: the page headers are scoped to the page routes', async () => {
  const reply = await t.rpc('GetSession', {})
  assert.equal(reply.headers['content-security-policy'], undefined)
  assert.equal(reply.headers['cache-control'], 'no-store')
})

test('ACCOUNT_PAGE_ENABLED=false: /account and its assets are the contract 404', async () => {
  const html = (await get('/account')).body
  const off = await startTestApp({ ACCOUNT_PAGE_ENABLED: 'false' })
  try {
    for (const url of ['/account', ...assetUrls(html)]) {
      const reply = await get(url, off)
      assert.equal(reply.statusCode, 404, url)
      assert.equal(reply.headers['cache-control'], 'no-store')
      assert.equal(JSON.parse(reply.body).error.data.reason, 'METHOD_NOT_FOUND')
    }
  } finally {
    await off.close()
  }
})
