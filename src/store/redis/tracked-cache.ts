import { type Cluster, Redis, type RedisOptions } from 'ioredis'
import type { RedisClient } from './connection.js'
import { keySlot, slotCount } from './key-slot.js'

/**
 * An in-process copy of Redis keys this instance read, kept correct by Redis itself
 * (server-assisted client-side caching). Reads go through a dedicated connection with
 * `CLIENT TRACKING on REDIRECT <subscriber>` (default mode: Redis remembers the keys this
 * connection read, including keys read inside Lua scripts); when any client changes, deletes or
 * expires such a key, Redis pushes its name to the subscriber connection on
 * `__redis__:invalidate` and the entry is dropped.
 *
 * Whenever either connection drops, a heartbeat fails or tracking cannot be confirmed, the whole
 * cache is dropped and `usable` is false (callers go to Redis) until both are back and tracking is
 * confirmed again: an invalidation lost with a connection can never leave a stale entry behind.
 *
 * On one Redis server there is one such pair of connections (`ServerTrackedCache`). On a Redis
 * Cluster a key's invalidations come from the master that holds it, so there is a pair per master
 * and each read goes to the master of its key's slot (`ClusterTrackedCache`); any change of the
 * topology drops the whole cache too.
 */
export interface TrackedCacheOptions {
  /** REDIS_KEY_PREFIX: callers use unprefixed keys, invalidations name full keys. */
  keyPrefix?: string
  /** Most entries kept; the oldest goes first. */
  maxEntries?: number
  heartbeatMs?: number
  /** Connect and command timeout (STORE_TIMEOUT_MS). */
  timeoutMs?: number
  /** Connection errors (for logging); the connections reconnect by themselves. */
  onError?: (error: Error) => void
}

/** A Lua script the stores read through the cache with (defined on every tracked connection). */
export interface ScriptDefinition {
  lua: string
  numberOfKeys: number
}

const invalidationChannel = '__redis__:invalidate'
const defaultMaxEntries = 20_000
const defaultHeartbeatMs = 250
/** Hits are served only while the subscriber answered this recently: a silent link stops them. */
const silenceLimitMs = 1_000
const defaultTimeoutMs = 1_500

/** A Redis URL, or a cluster node with the cluster client's credentials. */
type Target = string | Pick<RedisOptions, 'host' | 'port' | 'username' | 'password' | 'tls'>

function connect(target: Target, keyPrefix: string, name: string, timeoutMs: number): Redis {
  const options: RedisOptions = {
    keyPrefix,
    connectionName: name,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    // The subscription is re-made by hand after CLIENT ID, which a subscribed connection cannot send.
    autoResubscribe: false,
    enableOfflineQueue: false,
    enableAutoPipelining: true,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt - 1, 10), 2_000),
  }
  return typeof target === 'string' ? new Redis(target, options) : new Redis({ ...target, ...options })
}

let barrier: Promise<void> | null = null

/**
 * Resolves in this event-loop iteration's check phase, i.e. after every socket that was readable
 * when the current request was read has been processed. Redis writes an invalidation to the
 * subscriber in the same event-loop iteration as its reply to the revoking client, so a request
 * caused by that reply finds the invalidation already applied after this yield (see README). One
 * promise serves every request of an iteration.
 */
export function afterPendingIo(): Promise<void> {
  if (barrier === null) {
    barrier = new Promise((resolve) =>
      setImmediate(() => {
        barrier = null
        resolve()
      }),
    )
  }
  return barrier
}

/** What a node's tracker tells the cache it feeds. */
interface TrackerEvents {
  /** An invalidation's payload: the full names of the changed keys, or null (all flushed). */
  invalidated(message: unknown): void
  /** Tracking stopped or is being set up again: drop everything. */
  lost(): void
}

interface TrackerOptions {
  keyPrefix: string
  timeoutMs: number
  heartbeatMs: number
  onError: (error: Error) => void
  /** A further check of the node, with tracking's (a cluster master: same topology); false drops everything. */
  verify?: ((reader: Redis) => Promise<boolean>) | undefined
}

/**
 * One Redis node's tracked reader and the subscriber its invalidations are redirected to, with the
 * heartbeat that keeps confirming tracking (every 250 ms: PING on the subscriber, CLIENT
 * TRACKINGINFO on the reader). Anything amiss tells the cache to drop everything.
 */
export class NodeTracker {
  /** The tracked connection: reads whose results may be cached go through it (keyPrefix applied). */
  readonly reader: Redis
  readonly #subscriber: Redis
  readonly #events: TrackerEvents
  readonly #verify: ((reader: Redis) => Promise<boolean>) | undefined
  #confirmed = false
  /** When the subscriber last proved alive (a pong or an invalidation), performance.now() ms. */
  #heardAt = 0
  #subscriberId: string | null = null
  /** Bumped when the subscriber connection goes, so an id learnt on an older connection is not used. */
  #subscriberEpoch = 0
  #subscribing = false
  /** Bumped by every connection event, so a confirmation begun before one cannot enable the cache. */
  #generation = 0
  readonly #heartbeat: NodeJS.Timeout
  #closed = false

  constructor(target: Target, options: TrackerOptions, events: TrackerEvents) {
    this.#events = events
    this.#verify = options.verify
    this.reader = connect(target, options.keyPrefix, 'latchkey-tracked', options.timeoutMs)
    this.#subscriber = connect(target, '', 'latchkey-invalidations', options.timeoutMs)
    this.reader.on('error', options.onError)
    this.#subscriber.on('error', options.onError)
    this.#subscriber.on('messageBuffer', (channel: Buffer, message: unknown) => {
      this.#heardAt = performance.now()
      if (channel.toString() === invalidationChannel) this.#events.invalidated(message)
    })
    for (const connection of [this.reader, this.#subscriber]) {
      connection.on('close', () => this.#lose(connection))
      connection.on('reconnecting', () => this.#lose(connection))
    }
    this.#subscriber.on('ready', () => void this.#subscribe())
    this.reader.on('ready', () => void this.#track())
    this.#heartbeat = setInterval(() => void this.#check(), options.heartbeatMs)
    this.#heartbeat.unref()
  }

  /** Redis confirmed tracking and nothing was lost since. */
  get confirmed(): boolean {
    return this.#confirmed
  }

  /** Confirmed, and the subscriber was heard from within the silence limit (`now`: performance.now()). */
  usableAt(now: number): boolean {
    return this.#confirmed && now - this.#heardAt < silenceLimitMs
  }

  /** The id of the connection invalidations arrive on (tests kill it). */
  get subscriberId(): string | null {
    return this.#subscriberId
  }

  async close(): Promise<void> {
    this.#closed = true
    clearInterval(this.#heartbeat)
    this.#lose()
    await Promise.allSettled([
      this.reader.quit().catch(() => this.reader.disconnect()),
      this.#subscriber.quit().catch(() => this.#subscriber.disconnect()),
    ])
  }

  #lose(connection?: Redis): void {
    this.#generation++
    this.#confirmed = false
    this.#events.lost()
    if (connection === this.#subscriber) {
      this.#subscriberEpoch++
      this.#subscriberId = null
    }
  }

  async #subscribe(): Promise<void> {
    const epoch = this.#subscriberEpoch
    this.#subscribing = true
    try {
      const id = await this.#subscriber.client('ID')
      await this.#subscriber.subscribe(invalidationChannel)
      if (epoch !== this.#subscriberEpoch) return
      this.#subscriberId = String(id)
      await this.#track()
    } catch {
      // The connection is failing; its close or the heartbeat starts over.
    } finally {
      this.#subscribing = false
    }
  }

  /** Points tracking at the current subscriber and enables the cache once Redis confirms it. */
  async #track(): Promise<void> {
    const generation = ++this.#generation
    this.#confirmed = false
    this.#events.lost()
    const id = this.#subscriberId
    if (this.#closed || id === null || this.reader.status !== 'ready') return
    try {
      await this.reader.call('CLIENT', 'TRACKING', 'on', 'REDIRECT', id)
      if (generation !== this.#generation || !(await this.#trackingOn(id))) return
      if (this.#verify !== undefined && !(await this.#verify(this.reader))) return
      if (generation === this.#generation) {
        this.#heardAt = performance.now()
        this.#confirmed = true
      }
    } catch {
      // As above.
    }
  }

  /** Tracking is on, aimed at this subscriber, and Redis has not found that subscriber gone. */
  async #trackingOn(id: string): Promise<boolean> {
    const info = await this.reader.call('CLIENT', 'TRACKINGINFO')
    if (!Array.isArray(info)) return false
    const fields = new Map<string, unknown>()
    for (let i = 0; i + 1 < info.length; i += 2) fields.set(String(info[i]), info[i + 1])
    const flags = fields.get('flags')
    return (
      Array.isArray(flags) &&
      flags.map(String).includes('on') &&
      !flags.map(String).includes('broken_redirect') &&
      String(fields.get('redirect')) === id
    )
  }

  /** Heartbeat: both connections answer and tracking still points at our subscriber, or start over. */
  async #check(): Promise<void> {
    if (this.#closed) return
    const id = this.#subscriberId
    if (!this.#confirmed) {
      if (id !== null) await this.#track()
      // Ready but never subscribed (its subscription failed): start that connection over.
      else if (!this.#subscribing && this.#subscriber.status === 'ready') this.#subscriber.disconnect(true)
      return
    }
    const generation = this.#generation
    try {
      const [, tracking, verified] = await Promise.all([
        this.#subscriber.ping(),
        id === null ? false : this.#trackingOn(id),
        this.#verify === undefined ? true : this.#verify(this.reader),
      ])
      if (generation !== this.#generation) return
      if (tracking && verified) this.#heardAt = performance.now()
      else this.#lose()
    } catch {
      if (generation !== this.#generation) return
      // A connection that stopped answering without closing (a black-holed network) could be
      // losing invalidations: drop everything and reconnect it.
      this.#lose(this.#subscriber)
      this.#subscriber.disconnect(true)
    }
  }
}

/** A reply that sends the command to another cluster node: the key's slot moved, or is moving. */
function redirection(error: unknown): 'MOVED' | 'ASK' | null {
  if (!(error instanceof Error)) return null
  if (error.message.startsWith('MOVED ')) return 'MOVED'
  return error.message.startsWith('ASK ') ? 'ASK' : null
}

/**
 * The cache both deployments share: the entries, reads through the tracker of the key's node, and
 * invalidations. The stores see only this and `CacheSpace`, never which deployment they are on.
 */
export abstract class TrackedCache {
  readonly #prefix: string
  readonly #maxEntries: number
  // Values are typed by the views (`space<V>()`); key spaces of different views never overlap.
  readonly #entries = new Map<string, unknown>()
  /** A read in flight per key; an invalidation or drop meanwhile withdraws it so its result is not kept. */
  readonly #pending = new Map<string, object>()
  readonly #scripts = new Map<string, ScriptDefinition>()
  readonly #trackerOptions: TrackerOptions

  constructor(options: TrackedCacheOptions) {
    this.#prefix = options.keyPrefix ?? ''
    this.#maxEntries = options.maxEntries ?? defaultMaxEntries
    this.#trackerOptions = {
      keyPrefix: this.#prefix,
      timeoutMs: options.timeoutMs ?? defaultTimeoutMs,
      heartbeatMs: options.heartbeatMs ?? defaultHeartbeatMs,
      onError: options.onError ?? (() => undefined),
    }
  }

  /** False while tracking is not confirmed on every node: then nothing is served from or kept in the cache. */
  abstract get usable(): boolean

  /** Every node's tracker. */
  abstract get trackers(): readonly NodeTracker[]

  /** The tracker of the node that holds `key`; undefined while no node is known for it. */
  abstract trackerFor(key: string): NodeTracker | undefined

  /**
   * After a write that other instances must see: one more round trip, on the writer's client, to
   * each node that holds one of the written `keys`. Redis sends a write's invalidations in the
   * event-loop iteration of its reply, so once this answers they have left Redis (on one host:
   * they are in the other instances' socket buffers).
   */
  abstract fence(redis: RedisClient, keys: readonly string[]): Promise<void>

  abstract close(): Promise<void>

  /** Where a read goes when it cannot be tracked (the cache is not usable, or the key's slot moved). */
  protected abstract untracked(): RedisClient

  /** A tracked read was redirected to another node: the routing may be out of date. */
  protected redirected(_kind: 'MOVED' | 'ASK'): void {}

  protected get prefix(): string {
    return this.#prefix
  }

  get size(): number {
    return this.#entries.size
  }

  /** A typed view of the cache for one kind of key. */
  space<V>(): CacheSpace<V> {
    return {
      get: (key) => this.#entries.get(key) as V | null | undefined,
      has: (key) => this.#entries.has(key),
      readThrough: (key, read, entry) => this.#readThrough(key, read, entry),
      drop: (key) => this.drop(key),
    }
  }

  /** A script `readThrough` callers run on the reader; defined on every tracked connection, present and future. */
  defineCommand(name: string, definition: ScriptDefinition): void {
    this.#scripts.set(name, definition)
    for (const tracker of this.trackers) tracker.reader.defineCommand(name, definition)
  }

  /** The writer's own drop: synchronous, so the instance that revoked never waits for the push. */
  drop(key: string): void {
    this.#entries.delete(key)
    this.#pending.delete(key)
  }

  /** A tracker for one node, feeding this cache, with the scripts defined so far. */
  protected openTracker(target: Target, verify?: (reader: Redis) => Promise<boolean>): NodeTracker {
    const tracker = new NodeTracker(
      target,
      { ...this.#trackerOptions, verify },
      { invalidated: (message) => this.#invalidate(message), lost: () => this.flush() },
    )
    for (const [name, definition] of this.#scripts) tracker.reader.defineCommand(name, definition)
    return tracker
  }

  /** Drops every entry and withdraws every read in flight. */
  protected flush(): void {
    this.#entries.clear()
    this.#pending.clear()
  }

  async #readThrough<T, V>(
    key: string,
    read: (reader: RedisClient) => Promise<T>,
    entry: (value: T) => V | undefined,
  ): Promise<T> {
    const tracker = this.usable ? this.trackerFor(key) : undefined
    if (tracker === undefined) return read(this.untracked())
    const ticket = {}
    this.#pending.set(key, ticket)
    try {
      let value: T
      try {
        value = await read(tracker.reader)
      } catch (error) {
        const kind = redirection(error)
        const elsewhere = this.untracked()
        if (kind === null || elsewhere === tracker.reader) throw error
        // The node no longer holds the key: what it tracks is not where the key changes. Not kept;
        // the cluster client follows the redirection.
        this.redirected(kind)
        return await read(elsewhere)
      }
      // Kept only if no invalidation of this key arrived while the read was in flight: its reply
      // and the invalidation travel on different sockets, in either order.
      if (tracker.confirmed && this.#pending.get(key) === ticket) {
        const kept = entry(value)
        if (kept !== undefined) this.#keep(key, kept)
      }
      return value
    } finally {
      if (this.#pending.get(key) === ticket) this.#pending.delete(key)
    }
  }

  #keep(key: string, value: unknown): void {
    if (this.#entries.size >= this.#maxEntries && !this.#entries.has(key)) {
      const oldest = this.#entries.keys().next()
      if (oldest.done !== true) this.#entries.delete(oldest.value)
    }
    this.#entries.set(key, value)
  }

  #invalidate(message: unknown): void {
    // A null payload means the whole database was flushed (or the tracking table overflowed).
    if (!Array.isArray(message)) {
      this.flush()
      return
    }
    for (const name of message) {
      const key = String(name)
      if (!key.startsWith(this.#prefix)) continue
      this.drop(key.slice(this.#prefix.length))
    }
  }
}

/** The cache on one Redis server: one tracker. */
export class ServerTrackedCache extends TrackedCache {
  readonly #tracker: NodeTracker
  readonly #trackers: readonly NodeTracker[]

  constructor(url: string, options: TrackedCacheOptions = {}) {
    super(options)
    this.#tracker = this.openTracker(url)
    this.#trackers = [this.#tracker]
  }

  get usable(): boolean {
    return this.#tracker.usableAt(performance.now())
  }

  get trackers(): readonly NodeTracker[] {
    return this.#trackers
  }

  trackerFor(): NodeTracker {
    return this.#tracker
  }

  /** One Redis holds every key: a PING on the writer's connection. */
  async fence(redis: RedisClient): Promise<void> {
    await redis.ping().catch(() => undefined)
  }

  async close(): Promise<void> {
    await this.#tracker.close()
  }

  protected untracked(): RedisClient {
    return this.#tracker.reader
  }
}

/**
 * The cache on a Redis Cluster: a tracker per master, each read sent to the master of its key's
 * slot as the cluster client maps it. The whole cache is dropped when that map changes in any
 * slot, a node comes or goes, a tracked read is answered MOVED, a master's cluster state is not ok
 * or its epoch moves (every failover raises it), and whenever any master's tracker is not
 * confirmed (its connections, heartbeat and silence limit as on one server): `usable` needs all.
 */
export class ClusterTrackedCache extends TrackedCache {
  readonly #cluster: Cluster
  /** Per slot, the tracker of its master. */
  #owners: Array<NodeTracker | undefined> = []
  /** Per slot, its master's `host:port` as the cluster client last mapped it. */
  #ownerNodes: Array<string | undefined> = []
  readonly #byNode = new Map<string, NodeTracker>()
  #trackers: readonly NodeTracker[] = []
  readonly #onRefresh = () => this.#follow()
  readonly #onNodeChange = () => this.flush()
  #closed = false

  constructor(cluster: Cluster, options: TrackedCacheOptions = {}) {
    super({ ...options, keyPrefix: options.keyPrefix ?? cluster.options.keyPrefix ?? '' })
    this.#cluster = cluster
    cluster.on('refresh', this.#onRefresh)
    cluster.on('+node', this.#onNodeChange)
    cluster.on('-node', this.#onNodeChange)
    this.#follow()
  }

  get usable(): boolean {
    const trackers = this.#trackers
    if (trackers.length === 0) return false
    const now = performance.now()
    // Checked by every credential check: a plain loop over a handful of masters.
    for (let i = 0; i < trackers.length; i++) if (!trackers[i]!.usableAt(now)) return false
    return true
  }

  get trackers(): readonly NodeTracker[] {
    return this.#trackers
  }

  trackerFor(key: string): NodeTracker | undefined {
    return this.#owners[keySlot(this.prefix, key)]
  }

  override defineCommand(name: string, definition: ScriptDefinition): void {
    super.defineCommand(name, definition)
    // Reads that cannot be tracked run the same script through the cluster client.
    this.#cluster.defineCommand(name, definition)
  }

  /**
   * One keyed round trip per master among the written keys, on the writer's cluster client: it
   * goes to the node the write went to, over the same connection.
   */
  async fence(redis: RedisClient, keys: readonly string[]): Promise<void> {
    const fenced = new Set<NodeTracker>()
    const probes: Array<Promise<unknown>> = []
    for (const key of keys) {
      const owner = this.trackerFor(key)
      if (owner !== undefined) {
        if (fenced.has(owner)) continue
        fenced.add(owner)
      }
      probes.push(redis.exists(key).catch(() => undefined))
    }
    await Promise.all(probes)
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#cluster.off('refresh', this.#onRefresh)
    this.#cluster.off('+node', this.#onNodeChange)
    this.#cluster.off('-node', this.#onNodeChange)
    const trackers = [...this.#byNode.values()]
    this.#byNode.clear()
    this.#trackers = []
    this.#owners = []
    await Promise.all(trackers.map((tracker) => tracker.close()))
  }

  protected untracked(): RedisClient {
    return this.#cluster
  }

  protected override redirected(kind: 'MOVED' | 'ASK'): void {
    // ASK: the slot is being migrated and this key has left already (MIGRATE invalidated it).
    // MOVED: the slot has a new master; ours is out of date until the cluster client's refresh.
    if (kind === 'ASK') return
    this.flush()
    this.#cluster.refreshSlotsCache()
  }

  /** Follows the cluster client's slot map: on any difference, drops everything and re-points the trackers. */
  #follow(): void {
    if (this.#closed) return
    const slots = this.#cluster.slots
    let same = this.#ownerNodes.length === slotCount
    for (let slot = 0; same && slot < slotCount; slot++) same = slots[slot]?.[0] === this.#ownerNodes[slot]
    if (same) return
    this.flush()
    const ownerNodes: Array<string | undefined> = []
    for (let slot = 0; slot < slotCount; slot++) ownerNodes.push(slots[slot]?.[0])
    const masters = new Set(ownerNodes.filter((node) => node !== undefined))
    for (const [node, tracker] of this.#byNode) {
      if (masters.has(node)) continue
      this.#byNode.delete(node)
      void tracker.close()
    }
    for (const node of masters) {
      if (!this.#byNode.has(node)) this.#byNode.set(node, this.openTracker(this.#target(node), this.#verifier()))
    }
    this.#ownerNodes = ownerNodes
    this.#owners = ownerNodes.map((node) => (node === undefined ? undefined : this.#byNode.get(node)))
    this.#trackers = [...this.#byNode.values()]
  }

  /** A node key (`host:port`, the host may be IPv6) with the cluster client's credentials. */
  #target(node: string): Target {
    const colon = node.lastIndexOf(':')
    const { username, password, tls } = this.#cluster.options.redisOptions ?? {}
    return { host: node.slice(0, colon), port: Number(node.slice(colon + 1)), username, password, tls }
  }

  /**
   * A master's own view, checked with its tracking: the cluster is ok there and its current epoch
   * has not moved since the last check (a failover always raises it, so does a slot handed over
   * to a node that did not hold the highest epoch).
   */
  #verifier(): (reader: Redis) => Promise<boolean> {
    let epoch: string | undefined
    return async (reader) => {
      const info = String(await reader.call('CLUSTER', 'INFO'))
      const state = /^cluster_state:(\w+)/m.exec(info)?.[1]
      const current = /^cluster_current_epoch:(\d+)/m.exec(info)?.[1]
      if (state !== 'ok' || current === undefined) return false
      const moved = epoch !== undefined && epoch !== current
      epoch = current
      // The slot map may have changed too: the cluster client learns it now rather than on a MOVED.
      if (moved) this.#cluster.refreshSlotsCache()
      return !moved
    }
  }
}

export interface CacheSpace<V> {
  /** The cached value (null: known absent); undefined when not cached. Serve it only after `afterPendingIo`. */
  get(key: string): V | null | undefined
  has(key: string): boolean
  /**
   * Runs `read` on the tracked connection of the key's node (or, when the result cannot be kept,
   * on an untracked client); `entry` turns its result into what to keep (null: known absent,
   * undefined: keep nothing). Nothing is kept while the cache is not usable.
   */
  readThrough<T>(
    key: string,
    read: (reader: RedisClient) => Promise<T>,
    entry: (value: T) => V | null | undefined,
  ): Promise<T>
  drop(key: string): void
}
