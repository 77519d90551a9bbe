// Runs every test file under test/ with node's test runner (TypeScript through tsx).
// Extra arguments are file filters: `npm test -- totp` runs the files whose path contains "totp".
// TEST_COVERAGE=1 prints line, branch and function coverage after the results.
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'

const filters = process.argv.slice(2)
const files = readdirSync('test', { recursive: true })
  .map((f) => join('test', String(f)))
  .filter((f) => f.endsWith('.test.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort()

if (files.length === 0) {
  console.error('no test files matched')
  process.exit(1)
}

// TEST_COVERAGE=1 (CI sets it) adds node's coverage, summarized for src/, bench/ and scripts/ only.
const coverage = process.env.TEST_COVERAGE === '1'
const reporting = coverage
  ? ['--experimental-test-coverage', '--test-reporter=./scripts/test-reporter.mjs']
  : ['--test-reporter=spec']

const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=120000', ...reporting, ...files],
  { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent' } },
)
process.exit(result.status ?? 1)
