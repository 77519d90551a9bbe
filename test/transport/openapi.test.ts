// openapi.yaml is generated from the method table: it must not drift, and it must be valid OpenAPI 3.1.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { Validator } from '@seriousme/openapi-schema-validator'
import { renderOpenApiYaml } from '../../scripts/openapi-render.js'
import { methodTable } from '../../src/rpc/methods.js'

const committed = readFileSync('openapi.yaml', 'utf8')

test('the committed openapi.yaml equals a fresh generation (run `npm run openapi` after changing a method)', () => {
  assert.equal(committed, renderOpenApiYaml())
})

test('openapi.yaml is a valid OpenAPI 3.1 document', async () => {
  const validator = new Validator()
  const result = await validator.validate(parse(committed) as Parameters<Validator['validate']>[0])
  assert.equal(validator.version, '3.1')
  assert.deepEqual(result.errors ?? [], [])
  assert.equal(result.valid, true)
})

test('every method of the table has its /api path, and nothing else does', () => {
  const doc = parse(committed) as { paths: Record<string, unknown> }
  const apiPaths = Object.keys(doc.paths).filter((p) => p.startsWith('/api/'))
  assert.deepEqual(apiPaths.sort(), methodTable.map((m) => `/api/${m.name}`).sort())
  for (const path of ['/rpc', '/healthz', '/readyz']) assert.ok(path in doc.paths, path)
})

test('Redocly CLI (recommended rules, offline) finds no error and no warning in openapi.yaml', () => {
  const lint = spawnSync(join('node_modules', '.bin', 'redocly'), ['lint', 'openapi.yaml', '--format=json'], {
    encoding: 'utf8',
    // No telemetry or update check: the suite runs without network.
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
  })
  assert.equal(lint.error, undefined)
  const report = JSON.parse(lint.stdout.slice(lint.stdout.indexOf('{'))) as {
    totals: { errors: number; warnings: number }
    problems: Array<{ ruleId: string; message: string }>
  }
  assert.deepEqual(
    report.problems.map((p) => `${p.ruleId}: ${p.message}`),
    [],
  )
  assert.deepEqual(report.totals, { ...report.totals, errors: 0, warnings: 0 })
  assert.equal(lint.status, 0)
})
