import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { apiListAllows, isKnownApiListEntry, unknownApiListEntries } from '../../src/domain/api-list.js'

const catalog: ReadonlySet<string> = new Set([
  'GetSession',
  'environment.list',
  'environment.control.start',
  'environment.control.stop',
  'billing.invoice.get',
])

describe('apiListAllows', () => {
  const table: ReadonlyArray<readonly [readonly string[] | null, string, boolean]> = [
    [null, 'anything.at.all', true],
    [[], 'GetSession', false],
    [['GetSession'], 'GetSession', true],
    [['GetSession'], 'getsession', false],
    [['GetSession'], 'GetSessions', false],
    [['environment.list'], 'environment.list', true],
    [['environment.list'], 'environment.list.all', false],
    [['environment.*'], 'environment.control.start', true],
    [['environment.*'], 'environment.x', true],
    [['environment.*'], 'environmental.x', false],
    [['environment.*'], 'environment', false],
    [['environment.*'], 'environment.', false],
    [['environment.*'], 'billing.invoice.get', false],
    [['environment.control.*'], 'environment.control.stop', true],
    [['environment.control.*'], 'environment.list', false],
    [['*'], 'GetSession', false],
    [['*'], 'environment.list', false],
    [['.*'], 'environment.list', false],
    [['environment*'], 'environment.list', false],
    [['environment.l*'], 'environment.list', false],
    [['billing.*', 'GetSession'], 'GetSession', true],
    [['billing.*', 'GetSession'], 'billing.invoice.get', true],
    [['billing.*', 'GetSession'], 'environment.list', false],
  ]
  for (const [apiList, method, expected] of table) {
    test(`${JSON.stringify(apiList)} ${expected ? 'allows' : 'refuses'} ${method}`, () => {
      assert.equal(apiListAllows(apiList, method), expected)
    })
  }
})

describe('isKnownApiListEntry', () => {
  const table: ReadonlyArray<readonly [string, boolean]> = [
    ['GetSession', true],
    ['environment.list', true],
    ['environment.*', true],
    ['environment.control.*', true],
    ['billing.*', true],
    ['billing.invoice.*', true],
    ['*', false],
    ['.*', false],
    ['environment.list.*', false], // a full name, not a prefix of any
    ['environment.start.*', false],
    ['environmen.*', false],
    ['GetSession.*', false],
    ['environment.*.*', false],
    ['environment..*', false],
    ['environment*', false],
    ['Environment.*', false],
    ['getsession', false],
    ['', false],
    ['unknown.method', false],
  ]
  for (const [entry, expected] of table) {
    test(`${JSON.stringify(entry)} is ${expected ? 'known' : 'unknown'}`, () => {
      assert.equal(isKnownApiListEntry(entry, catalog), expected)
    })
  }
})

describe('unknownApiListEntries', () => {
  test('reports each unknown entry once, in order', () => {
    assert.deepEqual(
      unknownApiListEntries(['GetSession', 'nope', 'environment.*', '*', 'nope', 'billing.x.*'], catalog),
      ['nope', '*', 'billing.x.*'],
    )
  })

  test('empty when every entry is known', () => {
    assert.deepEqual(unknownApiListEntries(['GetSession', 'environment.*', 'billing.invoice.get'], catalog), [])
    assert.deepEqual(unknownApiListEntries([], catalog), [])
  })
})
