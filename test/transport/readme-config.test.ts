// The README's configuration table must name every setting config.ts reads.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { configSchema } from '../../src/config.js'

test('every configuration setting is documented in the README table', () => {
  const readme = readFileSync('README.md', 'utf8')
  // A table row's first cell, however the table is padded.
  const documented = new Set([...readme.matchAll(/^\|\s*`([A-Z0-9_]+)`\s*\|/gm)].map((m) => m[1]))
  const missing = Object.keys(configSchema.properties).filter((name) => !documented.has(name))
  assert.deepEqual(missing, [])
})
