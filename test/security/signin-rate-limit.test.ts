/**
 * Threat: password guessing. Failures are counted per (login, IP), per IP and per login across
 * IPs; past any limit SignIn is RATE_LIMITED with retryAfter even for the right password. Attackers
 * elsewhere must not lock the owner out of their own IP (below the per-login ceiling), unknown
 * logins count like known ones, and the counters are shared by every instance.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startTestApp, strongPassword, uniqueLogin, type TestApp } from '../support/app.js'
import { call, fails, fromIp, list, ok, sleep, transports, type Transport } from '../support/calls.js'

let base: TestApp
before(async () => {
  base = await startTestApp({ TRUST_PROXY: 'true', SIGNIN_MAX_PER_LOGIN_IP: '3' })
})
after(async () => {
  await base?.close()
})

/** An app on the same Postgres and Redis with its own limits, closed at the end of the test. */
async function withApp<T>(env: Record<string, string>, run: (app: TestApp) => Promise<T>): Promise<T> {
  const app = await startTestApp(env, { share: base })
  try {
    return await run(app)
  } finally {
    await app.close()
  }
}

let ipCounter = 1
/** A documentation-range address no other test uses. */
const freshIp = () => {
  const n = ipCounter++
  return `198.51.${100 + Math.floor(n / 250)}.${(n % 250) + 1}`
}

type Outcome = { reason: string; message: string; retryAfter: unknown }

async function attempt(
  app: TestApp,
  login: string,
  password: string,
  ip: string,
  transport: Transport = 'api',
): Promise<Outcome | 'ok'> {
  const reply = await call(app, transport, 'SignIn', { login, password }, fromIp(ip))
  if (reply.ok) return 'ok'
  return { reason: String(reply.reason), message: reply.message, retryAfter: reply.data['retryAfter'] }
}

async function failWrong(app: TestApp, login: string, ip: string, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    const outcome = await attempt(app, login, `wrong-${i}-${strongPassword()}`, ip)
    assert.notEqual(outcome, 'ok')
    assert.equal(outcome === 'ok' ? null : outcome.reason, 'INVALID_CREDENTIALS', `failure ${i + 1} of ${times}`)
  }
}

async function assertSignsIn(app: TestApp, login: string, password: string, ip: string, what: string): Promise<void> {
  const outcome = await attempt(app, login, password, ip)
  assert.equal(outcome, 'ok', `${what}: ${JSON.stringify(outcome)}`)
}

async function assertLimited(
  app: TestApp,
  login: string,
  password: string,
  ip: string,
  windowSeconds: number,
  what: string,
): Promise<number> {
  for (const transport of transports) {
    const outcome = await attempt(app, login, password, ip, transport)
    assert.notEqual(outcome, 'ok', `${what} (${transport}): signed in`)
    if (outcome === 'ok') return 0
    assert.equal(outcome.reason, 'RATE_LIMITED', `${what} (${transport})`)
    assert.ok(Number.isInteger(outcome.retryAfter), `retryAfter ${JSON.stringify(outcome.retryAfter)}`)
    const retryAfter = Number(outcome.retryAfter)
    assert.ok(retryAfter >= 1 && retryAfter <= windowSeconds, `retryAfter ${retryAfter} outside 1..${windowSeconds}`)
  }
  const reply = await app.api('SignIn', { login, password }, fromIp(ip))
  assert.equal(reply.status, 429)
  assert.equal(reply.headers['retry-after'], String(reply.body.error?.data['retryAfter']))
  return Number(reply.body.error?.data['retryAfter'])
}

describe('per (login, IP)', () => {
  test('the 4th attempt after 3 failures is RATE_LIMITED with retryAfter, even with the right password', async () => {
    const { login, password } = await base.signUp()
    const ip = freshIp()
    await failWrong(base, login, ip, 3)
    await assertLimited(base, login, password, ip, 900, 'owner at the attacked IP')
  })

  test('the owner from another IP still signs in, and other logins from the attacked IP are untouched', async () => {
    const { login, password } = await base.signUp()
    const neighbour = await base.signUp()
    const attacker = freshIp()
    await failWrong(base, login, attacker, 3)
    await assertLimited(base, login, password, attacker, 900, 'owner at the attacked IP')
    await assertSignsIn(base, login, password, freshIp(), 'owner from their own IP')
    await assertSignsIn(base, neighbour.login, neighbour.password, attacker, 'another login from the attacked IP')
  })

  test('failures count for the login whatever its case', async () => {
    const { login, password } = await base.signUp()
    const ip = freshIp()
    await failWrong(base, login.toUpperCase(), ip, 2)
    await failWrong(base, login, ip, 1)
    await assertLimited(base, login, password, ip, 900, 'mixed-case failures')
  })

  test('below the limit the owner still signs in from the same IP', async () => {
    const { login, password } = await base.signUp()
    const ip = freshIp()
    await failWrong(base, login, ip, 2)
    await assertSignsIn(base, login, password, ip, 'below the limit')
  })
})

describe('unknown logins are counted exactly like known ones', () => {
  test('the same answers in the same order, and the lock holds once the login exists', async () => {
    const known = await base.signUp()
    const unknown = uniqueLogin('nobody')
    const ip = freshIp()
    const wrong = strongPassword()
    const knownOutcomes: Array<Outcome | 'ok'> = []
    const unknownOutcomes: Array<Outcome | 'ok'> = []
    for (let i = 0; i < 5; i++) {
      knownOutcomes.push(await attempt(base, known.login, wrong, ip))
      unknownOutcomes.push(await attempt(base, unknown, wrong, ip))
    }
    const reasonsOf = (outcomes: Array<Outcome | 'ok'>) => outcomes.map((o) => (o === 'ok' ? 'ok' : o.reason))
    assert.deepEqual(reasonsOf(knownOutcomes), [
      'INVALID_CREDENTIALS',
      'INVALID_CREDENTIALS',
      'INVALID_CREDENTIALS',
      'RATE_LIMITED',
      'RATE_LIMITED',
    ])
    assert.deepEqual(reasonsOf(unknownOutcomes), reasonsOf(knownOutcomes))
    const messagesOf = (outcomes: Array<Outcome | 'ok'>) =>
      outcomes.map((o) => (o === 'ok' ? 'ok' : o.message.replace(/\d+/g, 'N')))
    assert.deepEqual(messagesOf(unknownOutcomes), messagesOf(knownOutcomes))

    // The counter was on the login, not on an account: signing up does not reset it.
    const password = strongPassword()
    await ok(base, 'api', 'SignUp', { login: unknown, password })
    await assertLimited(base, unknown, password, ip, 900, 'a login created after the failures')
  })
})

describe('per IP', () => {
  test('failures across many logins from one IP lock that IP for every login, and only that IP', async () => {
    await withApp({ TRUST_PROXY: 'true', SIGNIN_MAX_PER_IP: '4', SIGNIN_MAX_PER_LOGIN_IP: '10' }, async (app) => {
      const ip = freshIp()
      const victims = [await app.signUp(), await app.signUp()]
      await failWrong(app, victims[0]?.login ?? '', ip, 1)
      await failWrong(app, victims[1]?.login ?? '', ip, 1)
      await failWrong(app, uniqueLogin('spray'), ip, 1)
      await failWrong(app, uniqueLogin('spray'), ip, 1)
      const fresh = await app.signUp()
      await assertLimited(app, fresh.login, fresh.password, ip, 900, 'an untouched login from the spraying IP')
      await assertSignsIn(app, fresh.login, fresh.password, freshIp(), 'the same login from elsewhere')
      for (const victim of victims)
        await assertSignsIn(app, victim.login, victim.password, freshIp(), 'a sprayed login from elsewhere')
    })
  })
})

describe('per login across IPs', () => {
  test('failures from many IPs past the ceiling lock that login everywhere, and only that login', async () => {
    await withApp({ TRUST_PROXY: 'true', SIGNIN_MAX_PER_LOGIN: '4', SIGNIN_MAX_PER_LOGIN_IP: '10' }, async (app) => {
      const { login, password } = await app.signUp()
      const attackers = [freshIp(), freshIp(), freshIp(), freshIp()]
      for (const ip of attackers) await failWrong(app, login, ip, 1)
      await assertLimited(app, login, password, freshIp(), 900, 'the owner from a new IP')
      const other = await app.signUp()
      for (const ip of attackers)
        await assertSignsIn(app, other.login, other.password, ip, 'another login from an attacking IP')
    })
  })

  test('below the ceiling, attackers elsewhere do not lock the owner out of their own IP', async () => {
    await withApp({ TRUST_PROXY: 'true', SIGNIN_MAX_PER_LOGIN: '10', SIGNIN_MAX_PER_LOGIN_IP: '3' }, async (app) => {
      const { login, password } = await app.signUp()
      for (const ip of [freshIp(), freshIp(), freshIp()]) await failWrong(app, login, ip, 3)
      await assertSignsIn(app, login, password, freshIp(), 'owner after 9 failures elsewhere')
    })
  })
})

describe('limits are shared by every instance', () => {
  test('failures on two instances add up, and the lock shows on both', async () => {
    await withApp({ TRUST_PROXY: 'true', SIGNIN_MAX_PER_LOGIN_IP: '3' }, async (second) => {
      const { login, password } = await base.signUp()
      const ip = freshIp()
      await failWrong(base, login, ip, 2)
      await failWrong(second, login, ip, 1)
      await assertLimited(second, login, password, ip, 900, 'on the second instance')
      await assertLimited(base, login, password, ip, 900, 'on the first instance')
    })
  })
})

describe('client IP and TRUST_PROXY', () => {
  test('with TRUST_PROXY=false, X-Forwarded-For is ignored: varying it does not escape the limit', async () => {
    await withApp({ TRUST_PROXY: 'false', SIGNIN_MAX_PER_LOGIN_IP: '3' }, async (app) => {
      const { login, password } = await app.signUp()
      for (let i = 0; i < 3; i++) await failWrong(app, login, freshIp(), 1)
      await assertLimited(app, login, password, freshIp(), 900, 'a new X-Forwarded-For on an untrusted proxy')
    })
  })

  test('with TRUST_PROXY=false the session records the socket address, with true the forwarded one', async () => {
    const ip = freshIp()
    await withApp({ TRUST_PROXY: 'false' }, async (app) => {
      const { login, password } = await app.signUp()
      const session = String((await app.api('SignIn', { login, password }, fromIp(ip))).body['session'])
      const listed = await ok(app, 'api', 'GetSessions', {}, { bearer: session })
      assert.deepEqual(
        list(listed['sessions']).map((s) => s['ip']),
        ['127.0.0.1'],
      )
    })
    const { login, password } = await base.signUp()
    const session = String((await base.api('SignIn', { login, password }, fromIp(ip))).body['session'])
    const listed = await ok(base, 'api', 'GetSessions', {}, { bearer: session })
    assert.deepEqual(
      list(listed['sessions']).map((s) => s['ip']),
      [ip],
    )
  })
})

describe('the window', () => {
  test('the lock lifts once retryAfter has passed', async () => {
    await withApp({ TRUST_PROXY: 'true', SIGNIN_MAX_PER_LOGIN_IP: '3', SIGNIN_WINDOW_SECONDS: '2' }, async (app) => {
      const { login, password } = await app.signUp()
      const ip = freshIp()
      await failWrong(app, login, ip, 3)
      const retryAfter = await assertLimited(app, login, password, ip, 2, 'inside the window')
      await sleep(retryAfter * 1000 + 100)
      await assertSignsIn(app, login, password, ip, 'after retryAfter')
    })
  })
})

test('RATE_LIMITED does not check the password: a wrong one gets the same answer as the right one', async () => {
  const { login, password } = await base.signUp()
  const ip = freshIp()
  await failWrong(base, login, ip, 3)
  await fails(base, 'api', 'SignIn', 'RATE_LIMITED', { login, password }, fromIp(ip))
  await fails(base, 'api', 'SignIn', 'RATE_LIMITED', { login, password: 'still-wrong' }, fromIp(ip))
})
