import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes, randomUUID } from 'node:crypto'
import { credentialDigest } from '../../../src/domain/credentials.js'
import { AppError } from '../../../src/errors.js'
import type { TokenStore } from '../../../src/store/ports/index.js'
import { entry, failingEntry, type Harness } from './harness.js'

const isReason = (reason: string) => (error: unknown) => error instanceof AppError && error.reason === reason

const newDigest = () => credentialDigest(randomBytes(32).toString('hex'))

type CreateInput = Parameters<TokenStore['create']>[0]

function input(accountId: string, overrides: Partial<CreateInput> = {}): CreateInput {
  return {
    accountId,
    digest: newDigest(),
    description: 'ci deploys',
    apiList: ['GetSession', 'environment.*'],
    hint: 'abcd',
    expiresAt: null,
    ...overrides,
  }
}

export function tokenStoreContract(h: () => Harness): void {
  test('create returns the public record; list and findByDigest find it', async () => {
    const { stores, newAccount, auditCount } = h()
    const account = await newAccount()
    const expiresAt = new Date('2040-01-01T00:00:00.000Z')
    const made = input(account.id, { expiresAt })
    const token = await stores.tokens.create(made, 100, entry('token.created'))
    assert.equal(token.accountId, account.id)
    assert.equal(token.description, 'ci deploys')
    assert.deepEqual(token.apiList, ['GetSession', 'environment.*'])
    assert.equal(token.hint, 'abcd')
    assert.deepEqual(token.expiresAt, expiresAt)
    assert.equal(token.lastUsedAt, null)
    assert.equal(token.lastUsedIp, null)

    const listed = await stores.tokens.list(account.id)
    assert.equal(listed.length, 1)
    assert.equal(listed[0]?.digest, made.digest)
    assert.deepEqual({ ...listed[0], digest: undefined }, { ...token, digest: undefined })

    const found = await stores.tokens.findByDigest(made.digest)
    assert.deepEqual(found, {
      ...token,
      login: account.login,
      twoFactorEnabled: false,
      twoFactorRequiredBy: null,
      locked: false,
    })
    assert.equal(await stores.tokens.findByDigest(newDigest()), null)
    assert.equal(await auditCount(account.id, 'token.created'), 1)
  })

  test('apiList null means every method, and survives a round trip', async () => {
    const { stores, newAccount } = h()
    const account = await newAccount()
    const made = input(account.id, { apiList: null })
    assert.equal((await stores.tokens.create(made, 100, entry('token.created'))).apiList, null)
    assert.equal((await stores.tokens.findByDigest(made.digest))?.apiList, null)
    const empty = input(account.id, { apiList: [] })
    assert.deepEqual((await stores.tokens.create(empty, 100, entry('token.created'))).apiList, [])
  })

  test('findByDigest reports the owner\u2019s 2FA state', async () => {
    const { stores, newAccount } = h()
    const account = await newAccount()
    const made = input(account.id)
    await stores.tokens.create(made, 100, entry('token.created'))
    await stores.twoFactor.enable(account.id, randomBytes(20), ['aaaaa-bbbbb'], entry('2fa.enabled'), new Date())
    assert.equal((await stores.tokens.findByDigest(made.digest))?.twoFactorEnabled, true)
  })

  test('update edits only the given fields, returns the digest, audits; foreign or unknown ids give null', async () => {
    const { stores, newAccount, auditCount } = h()
    const [owner, other] = [await newAccount(), await newAccount()]
    const made = input(owner.id, { expiresAt: new Date('2040-01-01T00:00:00.000Z') })
    const token = await stores.tokens.create(made, 100, entry('token.created'))

    const renamed = await stores.tokens.update(owner.id, token.id, { description: 'renamed' }, entry('token.edited'))
    assert.equal(renamed?.digest, made.digest)
    assert.equal(renamed?.token.description, 'renamed')
    assert.deepEqual(renamed?.token.apiList, token.apiList)
    assert.deepEqual(renamed?.token.expiresAt, token.expiresAt)

    const widened = await stores.tokens.update(
      owner.id,
      token.id,
      { apiList: null, expiresAt: null },
      entry('token.edited'),
    )
    assert.equal(widened?.token.apiList, null)
    assert.equal(widened?.token.expiresAt, null)
    assert.equal(widened?.token.description, 'renamed')
    const narrowed = await stores.tokens.update(owner.id, token.id, { apiList: ['GetSession'] }, entry('token.edited'))
    assert.deepEqual(narrowed?.token.apiList, ['GetSession'])

    assert.equal(await stores.tokens.update(other.id, token.id, { description: 'stolen' }, entry('token.edited')), null)
    assert.equal(await stores.tokens.update(owner.id, randomUUID(), { description: 'x' }, entry('token.edited')), null)
    assert.equal(await stores.tokens.update(owner.id, 'not-a-uuid', { description: 'x' }, entry('token.edited')), null)
    assert.equal(await auditCount(owner.id, 'token.edited'), 3)
    assert.equal(await auditCount(other.id, 'token.edited'), 0)
  })

  test('replaceDigest swaps the secret at once and returns the old digest', async () => {
    const { stores, newAccount, auditCount } = h()
    const [owner, other] = [await newAccount(), await newAccount()]
    const made = input(owner.id)
    const token = await stores.tokens.create(made, 100, entry('token.created'))
    const next = newDigest()
    assert.equal(await stores.tokens.replaceDigest(other.id, token.id, next, 'wxyz', entry('token.regenerated')), null)
    const swapped = await stores.tokens.replaceDigest(owner.id, token.id, next, 'wxyz', entry('token.regenerated'))
    assert.equal(swapped?.oldDigest, made.digest)
    assert.equal(await stores.tokens.findByDigest(made.digest), null)
    assert.equal((await stores.tokens.findByDigest(next))?.hint, 'wxyz')
    assert.equal(
      await stores.tokens.replaceDigest(owner.id, 'nope', newDigest(), 'x', entry('token.regenerated')),
      null,
    )
    assert.equal(await auditCount(owner.id, 'token.regenerated'), 1)
  })

  test('delete removes this account\u2019s tokens among ids, or all with "*", returning their digests', async () => {
    const { stores, newAccount, auditCount } = h()
    const [owner, other] = [await newAccount(), await newAccount()]
    const inputs = [input(owner.id), input(owner.id), input(owner.id)]
    const tokens = []
    for (const made of inputs) tokens.push(await stores.tokens.create(made, 100, entry('token.created')))
    const foreign = await stores.tokens.create(input(other.id), 100, entry('token.created'))

    const first = await stores.tokens.delete(
      owner.id,
      [tokens[0]?.id ?? '', foreign.id, randomUUID(), 'garbage'],
      entry('token.deleted'),
    )
    assert.equal(first.length, 1)
    assert.equal(first[0], inputs[0]?.digest)
    assert.deepEqual(await stores.tokens.delete(owner.id, [foreign.id], entry('token.deleted')), [])
    assert.deepEqual(await stores.tokens.delete(owner.id, [], entry('token.deleted')), [])

    const rest = await stores.tokens.delete(owner.id, '*', entry('token.deleted'))
    assert.equal(rest.length, 2)
    assert.deepEqual(new Set(rest), new Set([inputs[1], inputs[2]].map((i) => i?.digest)))
    assert.deepEqual(await stores.tokens.list(owner.id), [])
    assert.equal((await stores.tokens.list(other.id)).length, 1)
    // Only the two calls that removed something are audited.
    assert.equal(await auditCount(owner.id, 'token.deleted'), 2)
  })

  test('recordUse only moves last use forward', async () => {
    const { stores, newAccount } = h()
    const account = await newAccount()
    const made = input(account.id)
    const token = await stores.tokens.create(made, 100, entry('token.created'))
    const t1 = new Date('2035-01-01T00:00:10.000Z')
    await stores.tokens.recordUse(token.id, t1, '198.51.100.1')
    await stores.tokens.recordUse(token.id, new Date(t1.getTime() - 5000), '198.51.100.2')
    let found = await stores.tokens.findByDigest(made.digest)
    assert.deepEqual([found?.lastUsedAt, found?.lastUsedIp], [t1, '198.51.100.1'])
    const t2 = new Date(t1.getTime() + 5000)
    await stores.tokens.recordUse(token.id, t2, '198.51.100.3')
    found = await stores.tokens.findByDigest(made.digest)
    assert.deepEqual([found?.lastUsedAt, found?.lastUsedIp], [t2, '198.51.100.3'])
    await stores.tokens.recordUse('not-a-uuid', t2, '198.51.100.3')
  })

  /** Fills an account up to `count` tokens behind the store's back (fast); the cap counts rows, however made. */
  async function prefill(accountId: string, count: number): Promise<void> {
    await h().prisma.accessToken.createMany({
      data: Array.from({ length: count }, (_, i) => ({
        accountId,
        digest: new Uint8Array(Buffer.from(newDigest(), 'hex')),
        description: `prefill ${i}`,
        hint: 'pref',
      })),
    })
  }

  test('the 101st token is CONFLICT and leaves no row or audit behind', async () => {
    const { stores, prisma, newAccount, auditCount } = h()
    const account = await newAccount()
    await prefill(account.id, 99)
    await stores.tokens.create(input(account.id), 100, entry('token.created'))
    await assert.rejects(stores.tokens.create(input(account.id), 100, entry('token.created')), isReason('CONFLICT'))
    assert.equal(await prisma.accessToken.count({ where: { accountId: account.id } }), 100)
    assert.equal(await auditCount(account.id, 'token.created'), 1)
    // Deleting one makes room again.
    const [first] = await stores.tokens.list(account.id)
    await stores.tokens.delete(account.id, [first?.id ?? ''], entry('token.deleted'))
    await stores.tokens.create(input(account.id), 100, entry('token.created'))
  })

  test('parallel creates cannot pass the cap: 25 at once with room for 10 → exactly 10', async () => {
    const { stores, prisma, newAccount, auditCount } = h()
    const account = await newAccount()
    await prefill(account.id, 90)
    const results = await Promise.allSettled(
      Array.from({ length: 25 }, () => stores.tokens.create(input(account.id), 100, entry('token.created'))),
    )
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    for (const r of rejected) assert.ok(isReason('CONFLICT')(r.reason), String(r.reason))
    assert.equal(rejected.length, 15)
    assert.equal(await prisma.accessToken.count({ where: { accountId: account.id } }), 100)
    assert.equal(await auditCount(account.id, 'token.created'), 10)
  })

  test('audit row present iff the change happened: a failing audit insert undoes the change', async () => {
    const { stores, newAccount, auditCount } = h()
    const account = await newAccount()
    const made = input(account.id)
    await assert.rejects(stores.tokens.create(made, 100, failingEntry('token.created')))
    assert.equal(await stores.tokens.findByDigest(made.digest), null)

    const token = await stores.tokens.create(made, 100, entry('token.created'))
    await assert.rejects(stores.tokens.update(account.id, token.id, { description: 'x' }, failingEntry('token.edited')))
    assert.equal((await stores.tokens.findByDigest(made.digest))?.description, 'ci deploys')
    await assert.rejects(
      stores.tokens.replaceDigest(account.id, token.id, newDigest(), 'x', failingEntry('token.regenerated')),
    )
    assert.notEqual(await stores.tokens.findByDigest(made.digest), null)
    await assert.rejects(stores.tokens.delete(account.id, '*', failingEntry('token.deleted')))
    assert.equal((await stores.tokens.list(account.id)).length, 1)
    assert.equal(await auditCount(account.id), 2)
  })

  test('a token for an unknown account is NOT_FOUND', async () => {
    const { stores } = h()
    await assert.rejects(stores.tokens.create(input(randomUUID()), 100, entry('token.created')), isReason('NOT_FOUND'))
  })
}
