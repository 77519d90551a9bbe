import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import assert from 'node:assert/strict'
import { createServer, type Server, type Socket } from 'node:net'
import { after, describe, test } from 'node:test'
import { StoreUnavailableError } from '../../src/errors.js'
import { RedisAttemptBoxStore } from '../../src/store/redis/attempt-box.js'
import { connectRedis, isRedisUnavailable, redisCall } from '../../src/store/redis/connection.js'
import { assertUnavailableFast, testRedis } from '../support/redis.js'
import { freePort, sleep } from '../support/calls.js'

function startRedisServer(port: number): ChildProcess {
  return spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  })
}

async function until(check: () => Promise<boolean>, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return
    await sleep(50)
  }
  assert.fail(`not true within ${withinMs} ms`)
}

describe('redisCall', () => {
  const { redis, cleanup } = testRedis()
  after(cleanup)

  test('lets script and usage errors through unchanged', async () => {
    const scriptError = await redisCall(() => redis.eval("return redis.error_reply('boom')", 0)).catch(
      (e: unknown) => e,
    )
    assert.ok(scriptError instanceof Error && !(scriptError instanceof StoreUnavailableError))
    assert.match(scriptError.message, /boom/)

    await redis.set('not-a-box', 'x')
    const wrongType = await redisCall(() => redis.hget('not-a-box', 'p')).catch((e: unknown) => e)
    assert.ok(wrongType instanceof Error && !(wrongType instanceof StoreUnavailableError))
    assert.match(wrongType.message, /WRONGTYPE/)
  })

  test('classifies connection failures', () => {
    assert.equal(
      isRedisUnavailable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })),
      true,
    )
    assert.equal(isRedisUnavailable(new Error('Connection is closed.')), true)
    assert.equal(isRedisUnavailable(new Error("Stream isn't writeable and enableOfflineQueue options is false")), true)
    assert.equal(isRedisUnavailable(new Error('Command timed out')), true)
    // Cluster client: an owner that is down, a map it could not refresh, a cluster that is failed.
    for (const message of [
      'MOVED 4794 127.0.0.1:38379',
      'CLUSTERDOWN The cluster is down',
      'Too many Cluster redirections. Last error: Error: Connection is closed.',
      'Failed to refresh slots cache.',
      "Cluster isn't ready and enableOfflineQueue options is false",
    ])
      assert.equal(isRedisUnavailable(new Error(message)), true, message)
    // A script touching two slots is a bug, not an outage.
    assert.equal(isRedisUnavailable(new Error("CROSSSLOT Keys in request don't hash to the same slot")), false)
    assert.equal(isRedisUnavailable(new Error('LOADING Redis is loading the dataset in memory')), true)
    assert.equal(isRedisUnavailable(new Error('ERR Error running script: attempt to compare nil with number')), false)
    assert.equal(isRedisUnavailable('ECONNREFUSED'), false)
  })
})

describe('connectRedis', () => {
  test('a server that accepts but never answers fails calls within 2 s', async () => {
    const sockets: Socket[] = []
    const silent: Server = createServer((socket) => void sockets.push(socket))
    silent.listen(0, '127.0.0.1')
    await once(silent, 'listening')
    const address = silent.address()
    assert.ok(address !== null && typeof address === 'object')
    const redis = connectRedis(`redis://127.0.0.1:${address.port}`)
    try {
      await assertUnavailableFast(() => new RedisAttemptBoxStore(redis, 'pending').get('k'))
    } finally {
      redis.disconnect()
      for (const socket of sockets) socket.destroy()
      silent.close()
    }
  })

  test('fails fast while Redis is down and recovers by itself when it returns', { timeout: 30_000 }, async () => {
    const port = await freePort()
    let server = startRedisServer(port)
    const redis = connectRedis(`redis://127.0.0.1:${port}`)
    const boxes = new RedisAttemptBoxStore(redis, 'pending')
    try {
      await until(async () => (await redis.ping()) === 'PONG', 5_000)
      await boxes.put('k', 'before', 5, 60_000)

      server.kill('SIGKILL')
      await once(server, 'exit')
      await until(async () => redis.status !== 'ready', 2_000)
      await assertUnavailableFast(() => boxes.get('k'))
      await assertUnavailableFast(() => boxes.put('k', 'during', 5, 60_000))

      server = startRedisServer(port)
      await until(async () => await boxes.put('k', 'after', 5, 60_000).then(() => true), 10_000)
      assert.deepEqual(await boxes.get('k'), { payload: 'after', attemptsLeft: 5 })
    } finally {
      redis.disconnect()
      server.kill('SIGKILL')
    }
  })
})
