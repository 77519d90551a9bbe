/**
 * A deploy that starts the service before its database answers: the process must wait for
 * Postgres (logging why) and come up by itself when it returns, not exit.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { createProcessBacking, spawnService, stopProcess, untilReady } from '../support/service-process.js'
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js'
import { eventually, freePort, sleep } from '../support/calls.js'

let child: ChildProcess | null = null
let proxy: TcpProxy | null = null
let release: () => Promise<void> = async () => {}

after(async () => {
  await stopProcess(child)
  await proxy?.close()
  await release()
})

test('started while Postgres is unreachable, the service waits and becomes ready when it returns', async () => {
  const backing = await createProcessBacking()
  release = backing.release
  proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 })
  proxy.pause()
  const port = await freePort()
  const service = spawnService({ databaseUrl: proxy.via(backing.databaseUrl), redisPrefix: backing.redisPrefix, port })
  child = service.child

  await eventually(
    async () => service.output().includes('unreachable at start; retrying'),
    20_000,
    'the retry log line',
  )
  await sleep(1_000)
  assert.equal(service.child.exitCode, null, `the service must keep waiting, not exit: ${service.output()}`)

  proxy.resume()
  await untilReady(`http://127.0.0.1:${port}`, service, 30_000, 'the service to become ready once Postgres answers')
  const signUp = await fetch(`http://127.0.0.1:${port}/api/SignUp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login: 'late-start@example.com', password: 'An0ther-l0ng-passw0rd' }),
  })
  assert.equal(signUp.status, 200)
})
