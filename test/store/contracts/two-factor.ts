import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes, randomUUID } from 'node:crypto'
import { AppError } from '../../../src/errors.js'
import { generateKeyMaterial, parseKeyring } from '../../../src/crypto/keyring.js'
import { createSecretBox } from '../../../src/crypto/secret-box.js'
import { generateRecoveryCodes } from '../../../src/domain/recovery-codes.js'
import { openPostgresStores } from '../../../src/store/postgres/index.js'
import { entry, failingEntry, type Harness } from './harness.js'

const conflict = (error: unknown) => error instanceof AppError && error.reason === 'CONFLICT'

async function enabledAccount(h: Harness, now = new Date()) {
  const account = await h.newAccount()
  const secret = randomBytes(20)
  const codes = generateRecoveryCodes()
  await h.stores.twoFactor.enable(account.id, secret, codes, entry('2fa.enabled'), now)
  return { account, secret, codes }
}

export function twoFactorStoreContract(h: () => Harness): void {
  test('off: status and secret are null; code operations are CONFLICT or refused', async () => {
    const { stores, newAccount } = h()
    const account = await newAccount()
    assert.equal(await stores.twoFactor.status(account.id), null)
    assert.equal(await stores.twoFactor.secret(account.id), null)
    assert.equal(await stores.twoFactor.acceptStep(account.id, 1, entry('2fa.success')), false)
    assert.equal(
      await stores.twoFactor.useRecoveryCode(account.id, 'aaaaa-aaaaa', entry('recovery.used'), new Date()),
      null,
    )
    await assert.rejects(stores.twoFactor.recoveryCodes(account.id), conflict)
    await assert.rejects(
      stores.twoFactor.replaceRecoveryCodes(account.id, generateRecoveryCodes(), entry('recovery.regenerated')),
      conflict,
    )
    await assert.rejects(stores.twoFactor.disable(account.id, entry('2fa.disabled')), conflict)
    assert.equal(await stores.twoFactor.status('not-a-uuid'), null)
  })

  test('enable: status, secret round trip, codes in issue order, audit', async () => {
    const harness = h()
    const now = new Date('2030-02-03T04:05:06.789Z')
    const { account, secret, codes } = await enabledAccount(harness, now)
    const { stores, auditCount } = harness
    assert.deepEqual(await stores.twoFactor.status(account.id), { enabledAt: now, recoveryCodesLeft: 10 })
    const stored = await stores.twoFactor.secret(account.id)
    assert.ok(stored !== null && Buffer.from(stored.secret).equals(secret))
    assert.equal(stored?.lastStep, -1)
    assert.deepEqual(
      await stores.twoFactor.recoveryCodes(account.id),
      codes.map((code) => ({ code, used: false })),
    )
    assert.equal(await auditCount(account.id, '2fa.enabled'), 1)
  })

  test('secrets are sealed at rest under the current key, bound to their row', async () => {
    const harness = h()
    const { prisma, box, stores } = harness
    const a = await enabledAccount(harness)
    const b = await enabledAccount(harness)
    const row = await prisma.twoFactor.findUniqueOrThrow({ where: { accountId: a.account.id } })
    assert.equal(row.secretKeyId, box.currentKeyId)
    assert.ok(!Buffer.from(row.secretCipher).includes(a.secret))
    const codeRows = await prisma.recoveryCode.findMany({ where: { accountId: a.account.id } })
    assert.equal(codeRows.length, 10)
    for (const code of codeRows) {
      assert.equal(code.keyId, box.currentKeyId)
      assert.ok(
        !Buffer.from(code.cipher)
          .toString('latin1')
          .includes(a.codes[code.position] ?? '?'),
      )
      assert.ok(Buffer.from(code.digest).equals(box.digest(a.codes[code.position] ?? '?')))
    }
    // Copy a's sealed secret onto b's row: the associated data no longer matches.
    const original = await prisma.twoFactor.findUniqueOrThrow({ where: { accountId: b.account.id } })
    await prisma.twoFactor.update({ where: { accountId: b.account.id }, data: { secretCipher: row.secretCipher } })
    try {
      await assert.rejects(stores.twoFactor.secret(b.account.id), /failed authentication/)
      // Re-sealing reports the row instead of silently carrying it over, and still rotates the rest.
      const otherKey = generateKeyMaterial()
      const rotated = openPostgresStores(prisma, createSecretBox(parseKeyring(`${otherKey},${harness.keyMaterial}`)))
      await assert.rejects(
        rotated.twoFactor.resealAll(),
        new RegExp(`, but 1 would not open.*two_factor ${b.account.id}`),
      )
      const back = openPostgresStores(prisma, createSecretBox(parseKeyring(`${harness.keyMaterial},${otherKey}`)))
      // b's row never left the harness key, so putting the others back finds nothing wrong.
      assert.ok((await back.twoFactor.resealAll()) > 0)
    } finally {
      await prisma.twoFactor.update({
        where: { accountId: b.account.id },
        data: { secretCipher: original.secretCipher, secretKeyId: original.secretKeyId },
      })
    }
    assert.ok(Buffer.from((await stores.twoFactor.secret(b.account.id))?.secret ?? []).equals(b.secret))
  })

  test('enable twice is CONFLICT and writes nothing more', async () => {
    const harness = h()
    const { account } = await enabledAccount(harness)
    await assert.rejects(
      harness.stores.twoFactor.enable(
        account.id,
        randomBytes(20),
        generateRecoveryCodes(),
        entry('2fa.enabled'),
        new Date(),
      ),
      conflict,
    )
    assert.equal(await harness.auditCount(account.id, '2fa.enabled'), 1)
    assert.equal(await harness.prisma.recoveryCode.count({ where: { accountId: account.id } }), 10)
  })

  test('acceptStep only moves forward, auditing each acceptance', async () => {
    const harness = h()
    const { account } = await enabledAccount(harness)
    const { twoFactor } = harness.stores
    assert.equal(await twoFactor.acceptStep(account.id, 1000, entry('2fa.success')), true)
    assert.equal(await twoFactor.acceptStep(account.id, 1000, entry('2fa.success')), false)
    assert.equal(await twoFactor.acceptStep(account.id, 999, entry('2fa.success')), false)
    assert.equal(await twoFactor.acceptStep(account.id, 1001, entry('2fa.success')), true)
    assert.equal((await twoFactor.secret(account.id))?.lastStep, 1001)
    assert.equal(await harness.auditCount(account.id, '2fa.success'), 2)
  })

  test('enable with the enrolment step: that step and earlier ones are refused afterwards', async () => {
    const { stores, newAccount } = h()
    const account = await newAccount()
    await stores.twoFactor.enable(
      account.id,
      randomBytes(20),
      generateRecoveryCodes(),
      entry('2fa.enabled'),
      new Date(),
      777,
    )
    assert.equal((await stores.twoFactor.secret(account.id))?.lastStep, 777)
    assert.equal(await stores.twoFactor.acceptStep(account.id, 777, entry('2fa.success')), false)
    assert.equal(await stores.twoFactor.acceptStep(account.id, 778, entry('2fa.success')), true)
  })

  test('hasUnusedRecoveryCode checks without spending', async () => {
    const harness = h()
    const { account, codes } = await enabledAccount(harness)
    const { twoFactor } = harness.stores
    const code = codes[0] ?? ''
    assert.equal(await twoFactor.hasUnusedRecoveryCode(account.id, code), true)
    assert.equal(await twoFactor.hasUnusedRecoveryCode(account.id, code), true, 'checking spends nothing')
    assert.equal((await twoFactor.status(account.id))?.recoveryCodesLeft, 10)
    assert.notEqual(await twoFactor.useRecoveryCode(account.id, code, entry('recovery.used'), new Date()), null)
    assert.equal(await twoFactor.hasUnusedRecoveryCode(account.id, code), false)
    assert.equal(await twoFactor.hasUnusedRecoveryCode(account.id, 'aaaaa-aaaaa'), false)
    assert.equal(await twoFactor.hasUnusedRecoveryCode('not-a-uuid', code), false)
  })

  test('10 parallel acceptStep(same step): exactly one true, one audit row', async () => {
    const harness = h()
    const { account } = await enabledAccount(harness)
    const results = await Promise.all(
      Array.from({ length: 10 }, () => harness.stores.twoFactor.acceptStep(account.id, 5555, entry('2fa.success'))),
    )
    assert.equal(results.filter(Boolean).length, 1)
    assert.equal(await harness.auditCount(account.id, '2fa.success'), 1)
  })

  test('useRecoveryCode: works once, counts down, audits; unknown or foreign codes give null', async () => {
    const harness = h()
    const a = await enabledAccount(harness)
    const b = await enabledAccount(harness)
    const { twoFactor } = harness.stores
    const now = new Date()
    assert.equal(await twoFactor.useRecoveryCode(a.account.id, a.codes[3] ?? '', entry('recovery.used'), now), 9)
    assert.equal(await twoFactor.useRecoveryCode(a.account.id, a.codes[3] ?? '', entry('recovery.used'), now), null)
    assert.equal(await twoFactor.useRecoveryCode(a.account.id, b.codes[0] ?? '', entry('recovery.used'), now), null)
    assert.equal(await twoFactor.useRecoveryCode(a.account.id, 'zzzzz-zzzzz', entry('recovery.used'), now), null)
    assert.equal(await twoFactor.useRecoveryCode(a.account.id, a.codes[0] ?? '', entry('recovery.used'), now), 8)
    assert.equal(await harness.auditCount(a.account.id, 'recovery.used'), 2)
    assert.equal((await twoFactor.status(a.account.id))?.recoveryCodesLeft, 8)
    const views = await twoFactor.recoveryCodes(a.account.id)
    assert.deepEqual(
      views.map((v) => v.used),
      [true, false, false, true, false, false, false, false, false, false],
    )
  })

  test('20 parallel useRecoveryCode(same code): exactly one non-null, one audit row', async () => {
    const harness = h()
    const { account, codes } = await enabledAccount(harness)
    const code = codes[7] ?? ''
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        harness.stores.twoFactor.useRecoveryCode(account.id, code, entry('recovery.used'), new Date()),
      ),
    )
    assert.deepEqual(
      results.filter((r) => r !== null),
      [9],
    )
    assert.equal(await harness.auditCount(account.id, 'recovery.used'), 1)
  })

  test('replaceRecoveryCodes: the old set stops working, the new one works', async () => {
    const harness = h()
    const { account, codes } = await enabledAccount(harness)
    const { twoFactor } = harness.stores
    await twoFactor.useRecoveryCode(account.id, codes[0] ?? '', entry('recovery.used'), new Date())
    const fresh = generateRecoveryCodes()
    await twoFactor.replaceRecoveryCodes(account.id, fresh, entry('recovery.regenerated'))
    assert.equal(await twoFactor.useRecoveryCode(account.id, codes[1] ?? '', entry('recovery.used'), new Date()), null)
    assert.deepEqual(
      await twoFactor.recoveryCodes(account.id),
      fresh.map((code) => ({ code, used: false })),
    )
    assert.equal(await twoFactor.useRecoveryCode(account.id, fresh[9] ?? '', entry('recovery.used'), new Date()), 9)
    assert.equal(await harness.auditCount(account.id, 'recovery.regenerated'), 1)
  })

  test('disable destroys secret and codes, audits; twice is CONFLICT; enable works again', async () => {
    const harness = h()
    const { account } = await enabledAccount(harness)
    const { twoFactor } = harness.stores
    await twoFactor.disable(account.id, entry('2fa.disabled'))
    assert.equal(await twoFactor.status(account.id), null)
    assert.equal(await harness.prisma.twoFactor.count({ where: { accountId: account.id } }), 0)
    assert.equal(await harness.prisma.recoveryCode.count({ where: { accountId: account.id } }), 0)
    await assert.rejects(twoFactor.disable(account.id, entry('2fa.disabled')), conflict)
    assert.equal(await harness.auditCount(account.id, '2fa.disabled'), 1)
    await twoFactor.enable(account.id, randomBytes(20), generateRecoveryCodes(), entry('2fa.enabled'), new Date())
    assert.equal((await twoFactor.status(account.id))?.recoveryCodesLeft, 10)
  })

  test('audit row present iff the change happened: a failing audit insert undoes the change', async () => {
    const harness = h()
    const { account, codes } = await enabledAccount(harness)
    const { twoFactor } = harness.stores
    await assert.rejects(twoFactor.acceptStep(account.id, 77, failingEntry('2fa.success')))
    assert.equal((await twoFactor.secret(account.id))?.lastStep, -1)
    await assert.rejects(
      twoFactor.useRecoveryCode(account.id, codes[0] ?? '', failingEntry('recovery.used'), new Date()),
    )
    assert.equal((await twoFactor.status(account.id))?.recoveryCodesLeft, 10)
    await assert.rejects(
      twoFactor.replaceRecoveryCodes(account.id, generateRecoveryCodes(), failingEntry('recovery.regenerated')),
    )
    assert.deepEqual(
      (await twoFactor.recoveryCodes(account.id)).map((v) => v.code),
      codes,
    )
    await assert.rejects(twoFactor.disable(account.id, failingEntry('2fa.disabled')))
    assert.notEqual(await twoFactor.status(account.id), null)
    const other = await harness.newAccount()
    await assert.rejects(
      twoFactor.enable(other.id, randomBytes(20), generateRecoveryCodes(), failingEntry('2fa.enabled'), new Date()),
    )
    assert.equal(await twoFactor.status(other.id), null)
    assert.equal(await harness.prisma.recoveryCode.count({ where: { accountId: other.id } }), 0)
    assert.equal(await harness.auditCount(account.id), 2)
  })

  // Re-sealing touches every row in the database, so this test puts them back under the harness key at the end.
  test('rotation: old rows work under "new,old"; resealAll moves every row to the new key', async () => {
    const harness = h()
    const { prisma } = harness
    const { account, secret, codes } = await enabledAccount(harness)
    const newKey = generateKeyMaterial()
    const rotated = createSecretBox(parseKeyring(`${newKey},${harness.keyMaterial}`))
    const after = openPostgresStores(prisma, rotated)

    // Before re-sealing: the old key still opens, and the old digests still match.
    assert.ok(Buffer.from((await after.twoFactor.secret(account.id))?.secret ?? []).equals(secret))
    assert.equal(
      await after.twoFactor.useRecoveryCode(account.id, codes[2] ?? '', entry('recovery.used'), new Date()),
      9,
    )

    const stale = async () =>
      (await prisma.twoFactor.count({ where: { secretKeyId: { not: rotated.currentKeyId } } })) +
      (await prisma.recoveryCode.count({ where: { keyId: { not: rotated.currentKeyId } } }))
    const rewritten = await after.twoFactor.resealAll()
    assert.ok(rewritten >= 11, `re-sealed ${rewritten} rows`)
    assert.equal(await stale(), 0)
    assert.equal(await after.twoFactor.resealAll(), 0)

    // With the old key gone, everything still opens and matches.
    const onlyNew = openPostgresStores(prisma, createSecretBox(parseKeyring(newKey)))
    assert.ok(Buffer.from((await onlyNew.twoFactor.secret(account.id))?.secret ?? []).equals(secret))
    assert.deepEqual(
      (await onlyNew.twoFactor.recoveryCodes(account.id)).map((v) => [v.code, v.used]),
      codes.map((code, i) => [code, i === 2]),
    )
    assert.equal(
      await onlyNew.twoFactor.useRecoveryCode(account.id, codes[2] ?? '', entry('recovery.used'), new Date()),
      null,
    )
    assert.equal(
      await onlyNew.twoFactor.useRecoveryCode(account.id, codes[5] ?? '', entry('recovery.used'), new Date()),
      8,
    )

    const back = openPostgresStores(prisma, createSecretBox(parseKeyring(`${harness.keyMaterial},${newKey}`)))
    assert.ok((await back.twoFactor.resealAll()) >= 11)
  })

  test('unknown account ids are treated as 2FA off', async () => {
    const { stores } = h()
    const id = randomUUID()
    assert.equal(await stores.twoFactor.secret(id), null)
    assert.equal(await stores.twoFactor.acceptStep('nope', 1, entry('2fa.success')), false)
    await assert.rejects(stores.twoFactor.recoveryCodes(id), conflict)
  })
}
