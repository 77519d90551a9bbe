// openapi.yaml is generated from the method table: it must not drift, and it must be valid OpenAPI 3.1.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
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
