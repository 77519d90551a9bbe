import { Redis } from 'ioredis'

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

const invalidationChannel = '__redis__:invalidate'
const defaultMaxEntries = 20_000
const defaultHeartbeatMs = 250
/** Hits are served only while the subscriber answered this recently: a silent link stops them. */
const silenceLimitMs = 1_000
const defaultTimeoutMs = 1_500

function connect(url: string, keyPrefix: string, name: string, timeoutMs: number): Redis {
  return new Redis(url, {
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
  })
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

export class TrackedCache {
  /** The tracked connection: reads whose results may be cached go through it (keyPrefix applied). */
  readonly reader: Redis
  readonly #subscriber: Redis
  readonly #prefix: string
  readonly #maxEntries: number
  // Values are typed by the views (`space<V>()`); key spaces of different views never overlap.
  readonly #entries = new Map<string, unknown>()
  /** A read in flight per key; an invalidation or drop meanwhile withdraws it so its result is not kept. */
  readonly #pending = new Map<string, object>()
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

  constructor(url: string, options: TrackedCacheOptions = {}) {
    this.#prefix = options.keyPrefix ?? ''
    this.#maxEntries = options.maxEntries ?? defaultMaxEntries
    const onError = options.onError ?? (() => undefined)
    const timeoutMs = options.timeoutMs ?? defaultTimeoutMs
    this.reader = connect(url, this.#prefix, 'latchkey-tracked', timeoutMs)
    this.#subscriber = connect(url, '', 'latchkey-invalidations', timeoutMs)
    this.reader.on('error', onError)
    this.#subscriber.on('error', onError)
    this.#subscriber.on('messageBuffer', (channel: Buffer, message: unknown) => {
      this.#heardAt = performance.now()
      if (channel.toString() === invalidationChannel) this.#invalidate(message)
    })
    for (const connection of [this.reader, this.#subscriber]) {
      connection.on('close', () => this.#lose(connection))
      connection.on('reconnecting', () => this.#lose(connection))
    }
    this.#subscriber.on('ready', () => void this.#subscribe())
    this.reader.on('ready', () => void this.#track())
    this.#heartbeat = setInterval(() => void this.#check(), options.heartbeatMs ?? defaultHeartbeatMs)
    this.#heartbeat.unref()
  }

  /** False while tracking is not confirmed: then nothing is served from or kept in the cache. */
  get usable(): boolean {
    return this.#confirmed && performance.now() - this.#heardAt < silenceLimitMs
  }

  /** The id of the connection invalidations arrive on (tests kill it). */
  get subscriberId(): string | null {
    return this.#subscriberId
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

  /**
   * After a write that other instances must see: one more round trip to the same Redis. Redis
   * sends a write's invalidations in the event-loop iteration of its reply, so once this answers
   * they have left Redis (on one host: they are in the other instances' socket buffers).
   */
  async fence(redis: { ping(): Promise<unknown> }): Promise<void> {
    await redis.ping().catch(() => undefined)
  }

  /** The writer's own drop: synchronous, so the instance that revoked never waits for the push. */
  drop(key: string): void {
    this.#entries.delete(key)
    this.#pending.delete(key)
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

  async #readThrough<T, V>(key: string, read: (reader: Redis) => Promise<T>, entry: (value: T) => V | undefined) {
    const ticket = this.usable ? {} : null
    if (ticket !== null) this.#pending.set(key, ticket)
    try {
      const value = await read(this.reader)
      // Kept only if no invalidation of this key arrived while the read was in flight: its reply
      // and the invalidation travel on different sockets, in either order.
      if (ticket !== null && this.#confirmed && this.#pending.get(key) === ticket) {
        const kept = entry(value)
        if (kept !== undefined) this.#keep(key, kept)
      }
      return value
    } finally {
      if (ticket !== null && this.#pending.get(key) === ticket) this.#pending.delete(key)
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
      this.#flush()
      return
    }
    for (const name of message) {
      const key = String(name)
      if (!key.startsWith(this.#prefix)) continue
      this.drop(key.slice(this.#prefix.length))
    }
  }

  #flush(): void {
    this.#entries.clear()
    this.#pending.clear()
  }

  #lose(connection?: Redis): void {
    this.#generation++
    this.#confirmed = false
    this.#flush()
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
    this.#flush()
    const id = this.#subscriberId
    if (this.#closed || id === null || this.reader.status !== 'ready') return
    try {
      await this.reader.call('CLIENT', 'TRACKING', 'on', 'REDIRECT', id)
      if (generation !== this.#generation || !(await this.#trackingOn(id))) return
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
      const [, confirmed] = await Promise.all([this.#subscriber.ping(), id === null ? false : this.#trackingOn(id)])
      if (generation !== this.#generation) return
      if (confirmed) this.#heardAt = performance.now()
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

export interface CacheSpace<V> {
  /** The cached value (null: known absent); undefined when not cached. Serve it only after `afterPendingIo`. */
  get(key: string): V | null | undefined
  has(key: string): boolean
  /**
   * Runs `read` on the tracked connection; `entry` turns its result into what to keep (null:
   * known absent, undefined: keep nothing). Nothing is kept while the cache is not usable.
   */
  readThrough<T>(
    key: string,
    read: (reader: Redis) => Promise<T>,
    entry: (value: T) => V | null | undefined,
  ): Promise<T>
  drop(key: string): void
}
