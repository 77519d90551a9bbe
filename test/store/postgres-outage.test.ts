/**
 * A Postgres outage is UNAVAILABLE (StoreUnavailableError), fails fast, and the same client works
 * again once the server is back. The outage is staged with a TCP proxy in front of the test server
 * (test/support/tcp-proxy.ts) that we can pause, black-hole and resume; the server itself is shared and stays up.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyMaterial, parseKeyring } from '../../src/crypto/keyring.js'
import { createSecretBox } from '../../src/crypto/secret-box.js'
import { AppError, StoreUnavailableError } from '../../src/errors.js'
import { openPrisma, type OpenedPrisma } from '../../src/store/postgres/client.js'
import { isConnectionFailure, isUniqueViolation } from '../../src/store/postgres/errors.js'
import { openPostgresStores, type PostgresStores } from '../../src/store/postgres/index.js'
import { createTestDatabase } from '../support/postgres.js'
import { startTcpProxyTo, type TcpProxy } from '../support/tcp-proxy.js'

const audit = { type: 'signup', ip: null, userAgent: null } as const

function unavailable(error: unknown): boolean {
  return error instanceof StoreUnavailableError
}

describe('Postgres outage through a proxy', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>
  let proxy: TcpProxy
  let opened: OpenedPrisma
  let stores: PostgresStores

  before(async () => {
    database = await createTestDatabase()
    proxy = await startTcpProxyTo(database.url)
    opened = await openPrisma({ databaseUrl: proxy.via(database.url), dataDir: '' })
    stores = openPostgresStores(opened.prisma, createSecretBox(parseKeyring(generateKeyMaterial())))
  })
  after(async () => {
    await opened.close()
    await proxy.close()
    await database.drop()
  })

  test('up: works, ping is true', async () => {
    await stores.accounts.create({ login: 'before-outage', email: null, passwordHash: 'h' }, audit)
    assert.equal(await stores.ping(), true)
  })

  test('down: reads, writes and transactions reject with StoreUnavailableError, quickly; ping is false', async () => {
    proxy.pause()
    const started = Date.now()
    // The first call meets pooled connections that were cut; later ones are refused outright.
    await assert.rejects(stores.accounts.findByLogin('before-outage'), unavailable)
    await assert.rejects(stores.accounts.findByLogin('before-outage'), unavailable)
    await assert.rejects(
      stores.accounts.create({ login: 'during-outage', email: null, passwordHash: 'h' }, audit),
      unavailable,
    )
    await assert.rejects(stores.audit.record(null, audit, new Date()), unavailable)
    assert.equal(await stores.ping(), false)
    assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`)
  })

  test('unresponsive server: StoreUnavailableError after the connect timeout, not the OS one', async () => {
    proxy.blackhole()
    const started = Date.now()
    await assert.rejects(stores.accounts.findByLogin('before-outage'), unavailable)
    // Transactions give up when no connection comes within Prisma's maxWait (P2028): also UNAVAILABLE.
    await assert.rejects(
      stores.accounts.changePassword('00000000-0000-4000-8000-000000000000', 'h', audit, new Date()),
      unavailable,
    )
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`)
    proxy.pause()
  })

  test('back up: the same client works again', async () => {
    proxy.resume()
    assert.equal((await stores.accounts.findByLogin('before-outage'))?.login, 'before-outage')
    await stores.accounts.create({ login: 'after-outage', email: null, passwordHash: 'h' }, audit)
    assert.equal(await stores.ping(), true)
  })
})

test('openPrisma on a refused port fails fast with StoreUnavailableError', async () => {
  const probe = net.createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const address = probe.address()
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  assert.ok(address !== null && typeof address !== 'string')
  const started = Date.now()
  await assert.rejects(
    openPrisma({ databaseUrl: `postgres://postgres@127.0.0.1:${address.port}/nothing`, dataDir: '' }),
    unavailable,
  )
  assert.ok(Date.now() - started < 2000)
})

test('PGlite persists under <dataDir>/pglite and reopens migrated', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-pglite-'))
  try {
    const first = await openPrisma({ dataDir })
    assert.equal(first.kind, 'pglite')
    assert.equal(first.location, join(dataDir, 'pglite'))
    await first.prisma.account.create({ data: { login: 'kept', passwordHash: 'h' } })
    await first.close()
    const second = await openPrisma({ dataDir })
    try {
      assert.equal((await second.prisma.account.findUnique({ where: { login: 'kept' } }))?.login, 'kept')
    } finally {
      await second.close()
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
})

describe('error mapping', () => {
  test('connection failures in their various shapes', () => {
    const shapes: unknown[] = [
      Object.assign(new Error("Can't reach database server"), { code: 'P1001' }),
      Object.assign(new Error('Server has closed the connection.'), { code: 'P1017' }),
      Object.assign(new Error('x'), {
        code: 'P1001',
        meta: { driverAdapterError: { cause: { kind: 'DatabaseNotReachable' } } },
      }),
      Object.assign(new Error('x'), { cause: { kind: 'ConnectionClosed' } }),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
      Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
      Object.assign(new Error('Transaction API error: Unable to start a transaction in the given time.'), {
        code: 'P2028',
      }),
      { name: 'PrismaClientInitializationError', message: 'x' },
      new StoreUnavailableError('postgres'),
    ]
    for (const shape of shapes) assert.equal(isConnectionFailure(shape), true, JSON.stringify(shape))
  })

  test('other errors are not connection failures', () => {
    for (const shape of [
      new Error('boom'),
      new AppError('CONFLICT'),
      Object.assign(new Error('x'), { code: 'P2002' }),
      null,
      'text',
    ]) {
      assert.equal(isConnectionFailure(shape), false)
    }
  })

  test('unique violations are matched by index name (adapter-pg) or columns (PGlite)', () => {
    const login = { columns: ['login'], index: 'accounts_login_key' }
    const viaPg = {
      code: 'P2002',
      meta: {
        driverAdapterError: {
          cause: { kind: 'UniqueConstraintViolation', constraint: { index: 'accounts_login_key' } },
        },
      },
    }
    const viaPGlite = {
      code: 'P2002',
      meta: { driverAdapterError: { cause: { kind: 'UniqueConstraintViolation', constraint: { fields: ['login'] } } } },
    }
    const other = {
      code: 'P2002',
      meta: {
        driverAdapterError: {
          cause: { kind: 'UniqueConstraintViolation', constraint: { fields: ['account_id', 'digest'] } },
        },
      },
    }
    assert.equal(isUniqueViolation(viaPg, login), true)
    assert.equal(isUniqueViolation(viaPGlite, login), true)
    assert.equal(isUniqueViolation(other, login), false)
    assert.equal(isUniqueViolation(other, { columns: ['account_id'], index: 'two_factor_pkey' }), false)
  })
})
