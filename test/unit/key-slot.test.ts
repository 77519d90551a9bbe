import assert from 'node:assert/strict'
import { test } from 'node:test'
import { keySlot } from '../../src/store/redis/key-slot.js'

// Vectors from `CLUSTER KEYSLOT` on Redis 7.0 (test/store/tracked-cache.test.ts also compares
// random keys with a live cluster).
const vectors: Array<[prefix: string, key: string, slot: number]> = [
  ['', 'somekey', 11058],
  ['', 'foo{hash_tag}', 2515],
  ['', '123456789', 12739],
  // An empty tag hashes the whole key; only the first `{` and the first `}` after it count.
  ['', 'foo{}{bar}', 8363],
  ['', 'foo{{bar}}zap', 4015],
  ['', 'foo{bar}{zap}', 5061],
  ['', '{}', 15257],
  ['', '', 0],
  // The prefix is part of the key ioredis routes: outside the braces it does not count...
  ['', 'lk:{s:abc}', 10944],
  ['test:', 'lk:{s:abc}', 10944],
  // ...inside them it does.
  ['{pre}:', 'lk:{s:abc}', 2608],
  ['pre{', '}:lk:{s:abc}', 1783],
  ['pre{x', '}:lk:{s:abc}', 16287],
  // UTF-8 bytes, two to four per character.
  ['pré:', 'lk:{s:ünïcödé}', 3178],
  ['', 'clé{🔑}', 3314],
]

test('keySlot: the slot Redis computes for the prefixed key', () => {
  for (const [prefix, key, slot] of vectors) assert.equal(keySlot(prefix, key), slot, `${prefix}${key}`)
})
