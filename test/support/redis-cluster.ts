import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before } from 'node:test'
import { promisify } from 'node:util'
import { type Cluster, Redis } from 'ioredis'
import { parseHostPorts } from '../../src/config.js'
import { connectRedisCluster } from '../../src/store/redis/connection.js'
import { eventually, freePort } from './calls.js'

const run = promisify(execFile)

/** A real Redis Cluster of three masters on free loopback ports, started for one test file. */
export interface TestCluster {
  /** `host:port,…` as REDIS_CLUSTER_NODES spells it. */
  nodes: string
  ports: number[]
  /** Stops one master at once (SIGKILL), as a crashed node. */
  kill(port: number): Promise<void>
  /** The port of the master that owns `slot`. */
  ownerOf(slot: number): Promise<number>
  /**
   * The master holding the highest config epoch: a slot migrated to it raises no epoch (Redis
   * bumps the importing node's epoch only when it does not hold the highest already).
   */
  highestEpochMaster(): Promise<number>
  /**
   * Moves `slot` and its keys to the master on `toPort` as resharding does: SETSLOT IMPORTING and
   * MIGRATING, MIGRATE the keys, then SETSLOT NODE on every master.
   */
  migrateSlot(slot: number, toPort: number): Promise<void>
  stop(): Promise<void>
}

// A cluster bus port is the node's port + 10000: it must fit and be free too.
async function clusterPort(taken: number[]): Promise<number> {
  for (;;) {
    const port = await freePort()
    if (port + 10000 <= 65535 && !taken.includes(port) && !taken.includes(port + 10000)) return port
  }
}

const cli = (port: number, ...args: string[]) => run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args])

/** Starts the masters, joins them with `redis-cli --cluster create` and waits for cluster_state:ok. */
export async function startTestCluster(): Promise<TestCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'latchkey-cluster-'))
  const ports: number[] = []
  for (let i = 0; i < 3; i++) ports.push(await clusterPort(ports))
  const pids = new Map<number, number>()
  const stopAll = async () => {
    for (const pid of pids.values()) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
    pids.clear()
    await rm(dir, { recursive: true, force: true })
  }
  try {
    for (const port of ports) {
      await run('redis-server', [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, `nodes-${port}.conf`),
        // A killed master is noticed within a second, so the outage tests do not wait long.
        '--cluster-node-timeout',
        '1000',
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'yes',
        '--pidfile',
        join(dir, `redis-${port}.pid`),
        '--dir',
        dir,
      ])
    }
    for (const port of ports) {
      await eventually(async () => (await cli(port, 'ping')).stdout.trim() === 'PONG', 20_000, 'test cluster node up')
      pids.set(port, Number((await readFile(join(dir, `redis-${port}.pid`), 'utf8')).trim()))
    }
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-yes'])
    for (const port of ports)
      await eventually(async () => (await clusterState(port)) === 'ok', 20_000, 'test cluster state ok')
  } catch (error) {
    await stopAll()
    throw error
  }
  return {
    nodes: ports.map((p) => `127.0.0.1:${p}`).join(','),
    ports,
    async kill(port) {
      const pid = pids.get(port)
      if (pid === undefined) return
      process.kill(pid, 'SIGKILL')
      pids.delete(port)
    },
    ownerOf: (slot) => onNode(ports[0] ?? 0, (node) => slotOwner(node, slot)),
    async highestEpochMaster() {
      let best = { port: 0, epoch: -1 }
      for (const port of ports) {
        const info = String(await onNode(port, (node) => node.call('CLUSTER', 'INFO')))
        const epoch = Number(/^cluster_my_epoch:(\d+)/m.exec(info)?.[1] ?? -1)
        if (epoch > best.epoch) best = { port, epoch }
      }
      return best.port
    },
    async migrateSlot(slot, toPort) {
      const fromPort = await onNode(toPort, (node) => slotOwner(node, slot))
      if (fromPort === toPort) return
      const id = (port: number) => onNode(port, async (node) => String(await node.call('CLUSTER', 'MYID')))
      const [fromId, toId] = [await id(fromPort), await id(toPort)]
      await onNode(toPort, (node) => node.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', fromId))
      await onNode(fromPort, async (node) => {
        await node.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', toId)
        for (;;) {
          const keys = await node.call('CLUSTER', 'GETKEYSINSLOT', slot, 100)
          if (!Array.isArray(keys) || keys.length === 0) break
          await node.call('MIGRATE', '127.0.0.1', toPort, '', 0, 5_000, 'KEYS', ...keys.map(String))
        }
      })
      for (const port of [toPort, fromPort, ...ports.filter((p) => p !== toPort && p !== fromPort)])
        await onNode(port, (node) => node.call('CLUSTER', 'SETSLOT', slot, 'NODE', toId))
    },
    stop: stopAll,
  }
}

/** A plain connection to one node for the duration of `work`. */
async function onNode<T>(port: number, work: (node: Redis) => Promise<T>): Promise<T> {
  const node = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 0 })
  try {
    return await work(node)
  } finally {
    node.disconnect()
  }
}

/** The port of the master that owns `slot`, as `node` maps it. */
async function slotOwner(node: Redis, slot: number): Promise<number> {
  const ranges = await node.call('CLUSTER', 'SLOTS')
  if (Array.isArray(ranges)) {
    for (const range of ranges) {
      if (!Array.isArray(range)) continue
      const [first, last, master] = range
      if (Number(first) <= slot && slot <= Number(last) && Array.isArray(master)) return Number(master[1])
    }
  }
  throw new Error(`no master owns slot ${slot}`)
}

/** `cluster_state` as the node at `port` reports it. */
export async function clusterState(port: number): Promise<string | undefined> {
  const { stdout } = await cli(port, 'cluster', 'info')
  return /cluster_state:(\w+)/.exec(stdout)?.[1]
}

/**
 * Registers a cluster for the enclosing describe (started in `before`, stopped in `after`);
 * `client()` gives a prefixed cluster client like testRedis() does for the single Redis (a fresh
 * prefix unless one is given, so several clients can share one).
 */
export function useTestCluster(): {
  readonly cluster: TestCluster
  client(prefix?: string): { redis: Cluster; prefix: string; cleanup(): Promise<void> }
} {
  let started: TestCluster | undefined
  before(async () => {
    started = await startTestCluster()
  })
  after(() => started?.stop())
  const cluster = () => {
    if (started === undefined) throw new Error('the test cluster is not started yet (use it inside a test or hook)')
    return started
  }
  return {
    get cluster() {
      return cluster()
    },
    client(prefix = `lktest:${randomBytes(6).toString('hex')}:`) {
      const redis = connectRedisCluster(parseHostPorts(cluster().nodes) ?? [], { keyPrefix: prefix })
      return {
        redis,
        prefix,
        async cleanup() {
          redis.disconnect()
        },
      }
    },
  }
}

/** A started cluster and a prefixed client on it; `cleanup` disconnects and stops the cluster. */
export async function openClusterBackend(): Promise<{ redis: Cluster; prefix: string; cleanup(): Promise<void> }> {
  const cluster = await startTestCluster()
  const prefix = `lktest:${randomBytes(6).toString('hex')}:`
  const redis = connectRedisCluster(parseHostPorts(cluster.nodes) ?? [], { keyPrefix: prefix })
  return {
    redis,
    prefix,
    async cleanup() {
      redis.disconnect()
      await cluster.stop()
    },
  }
}
