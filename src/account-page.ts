import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import helmet from '@fastify/helmet'
import fastifyStatic from '@fastify/static'
import type { FastifyBaseLogger, FastifyInstance, FastifyReply } from 'fastify'

/** Where `npm run build` writes the page: `dist/account/` of the package, whether run from src/ or dist/src/. */
export function accountPageDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir)
    if (parent === dir) break
    dir = parent
  }
  return join(dir, 'dist', 'account')
}

/**
 * The page runs nothing but its own bundle: no inline script or style, no other origin, no framing.
 * `data:` images carry the enrolment QR code that Get2FAConfig returns.
 */
const accountPageCsp = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'font-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
}

const ONE_YEAR_MS = 365 * 24 * 3600 * 1000

/**
 * GET /account: the self-service page, its HTML (no-store, like every response) and its
 * fingerprinted assets (immutable). Security headers come from helmet inside this plugin's
 * scope only, so /rpc and /api stay lean.
 */
export function registerAccountPage(app: FastifyInstance, log: FastifyBaseLogger, dir = accountPageDir()): void {
  const indexFile = join(dir, 'index.html')
  if (!existsSync(indexFile)) {
    log.error({ dir }, 'account page is enabled but not built (run npm run build); GET /account answers 404')
    return
  }
  const html = readFileSync(indexFile, 'utf8')
  app.register(async (scope) => {
    await scope.register(helmet, {
      contentSecurityPolicy: { useDefaults: false, directives: accountPageCsp },
      frameguard: { action: 'deny' },
      referrerPolicy: { policy: 'no-referrer' },
      crossOriginEmbedderPolicy: false,
      strictTransportSecurity: false,
    })
    await scope.register(fastifyStatic, {
      root: join(dir, 'assets'),
      prefix: '/account/assets/',
      // Names carry their content hash, so a cached copy can never be stale.
      cacheControl: true,
      maxAge: ONE_YEAR_MS,
      immutable: true,
      index: false,
      wildcard: false,
      decorateReply: false,
    })
    const page = async (_request: unknown, reply: FastifyReply) => reply.type('text/html; charset=utf-8').send(html)
    scope.get('/account', page)
    scope.get('/account/', page)
  })
}
