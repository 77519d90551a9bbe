// No Docker engine here: check what can be checked of the Dockerfile by reading it against the tree.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'

const dockerfile = readFileSync('Dockerfile', 'utf8')
const lines = dockerfile.split('\n').map((l) => l.trim())

test('every COPY from the build context names something that exists and is not docker-ignored', () => {
  const ignored = readFileSync('.dockerignore', 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
  const sources = lines
    .filter((l) => l.startsWith('COPY ') && !l.includes('--from='))
    .flatMap((l) => l.split(/\s+/).slice(1, -1))
  assert.ok(sources.length > 0)
  for (const source of sources) {
    assert.ok(existsSync(source), `${source} exists`)
    assert.ok(!ignored.includes(source), `${source} is not in .dockerignore`)
  }
})

test('multi-stage, production dependencies only, non-root, health check, migrations then the service', () => {
  assert.equal(lines.filter((l) => l.startsWith('FROM ')).length, 2)
  assert.ok(lines.some((l) => l.includes('npm ci --omit=dev')))
  assert.ok(lines.some((l) => /^USER\s+(?!root)\w+/.test(l)))
  assert.ok(lines.some((l) => l.startsWith('HEALTHCHECK')) && dockerfile.includes('/healthz'))
  // The last CMD is the image's; the HEALTHCHECK's continuation line starts with CMD too.
  const cmd = lines.filter((l) => l.startsWith('CMD ')).at(-1)
  assert.match(cmd ?? '', /migrate\.js && exec bin\/latchkey/)
})

test('what the run stage starts is what the build produces', () => {
  // `npm ci` ran `prepare` (the build) before the tests, as the build stage's `npm run build` does.
  for (const file of [
    'dist/src/main.js',
    'dist/scripts/migrate.js',
    'dist/scripts/rotate-secrets.js',
    'dist/account/index.html',
    'bin/latchkey',
  ]) {
    assert.ok(existsSync(file), `${file} exists`)
  }
  assert.match(readFileSync('bin/latchkey', 'utf8'), /dist\/src\/main\.js/)
})
