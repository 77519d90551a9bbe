/**
 * Driver and Prisma errors → the store's contract: an unreachable server becomes
 * StoreUnavailableError (UNAVAILABLE, "retry later"), everything else passes through untouched.
 * Prisma 7 reports the same outage in several shapes depending on where it broke (pool, socket,
 * driver adapter, query compiler), so this looks at codes along the whole `cause` chain.
 */
import { StoreUnavailableError } from '../../errors.js'

// P1001 can't reach server, P1002 timed out reaching it, P1008 socket timeout, P1017 server closed
// the connection, P2024 pool timeout, P2037 too many connections.
const prismaCodes = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2037'])
const adapterKinds = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections'])
const socketCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
])
// SQLSTATE: 08xxx connection exceptions, 57P01-03 server shutting down / starting, 53300 too many
// connections, 57014 a statement cancelled (statement_timeout: the server did not answer in time).
const sqlStates = /^(08...|57P0[123]|53300|57014)$/
// pg and pg-pool raise these as plain Errors with no code; P2028 says this when no pooled
// connection could be had before the transaction's maxWait.
// "Query read timeout" is pg's query_timeout.
const driverMessages =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection is closed|Unable to start a transaction in the given time|Query read timeout/i

function field(value: object, key: string): unknown {
  return (value as Record<string, unknown>)[key]
}

/** Every object reachable through `cause`, Prisma's `meta.driverAdapterError` and DriverAdapterError's `cause`. */
function* chain(error: unknown): Generator<object> {
  const seen = new Set<object>()
  const queue: unknown[] = [error]
  while (queue.length > 0) {
    const next = queue.shift()
    if (typeof next !== 'object' || next === null || seen.has(next)) continue
    seen.add(next)
    yield next
    queue.push(field(next, 'cause'))
    const meta = field(next, 'meta')
    if (typeof meta === 'object' && meta !== null) queue.push(field(meta, 'driverAdapterError'))
  }
}

export function isConnectionFailure(error: unknown): boolean {
  if (error instanceof StoreUnavailableError) return true
  for (const link of chain(error)) {
    const code = field(link, 'code')
    const kind = field(link, 'kind')
    const originalCode = field(link, 'originalCode')
    const name = field(link, 'name')
    const message = field(link, 'message')
    if (typeof code === 'string' && (prismaCodes.has(code) || socketCodes.has(code) || sqlStates.test(code)))
      return true
    if (typeof originalCode === 'string' && sqlStates.test(originalCode)) return true
    if (typeof kind === 'string' && adapterKinds.has(kind)) return true
    if (name === 'PrismaClientInitializationError') return true
    if (typeof message === 'string' && driverMessages.test(message)) return true
  }
  return false
}

function sameColumns(found: unknown, columns: readonly string[]): boolean {
  return Array.isArray(found) && found.length === columns.length && columns.every((column) => found.includes(column))
}

export interface UniqueConstraint {
  /** Database column names, as PGlite's adapter reports them. */
  columns: readonly string[]
  /** The index name, as adapter-pg reports it. */
  index: string
}

/** True for a unique-constraint violation of exactly this constraint. */
export function isUniqueViolation(error: unknown, unique: UniqueConstraint): boolean {
  for (const link of chain(error)) {
    if (field(link, 'kind') === 'UniqueConstraintViolation') {
      const constraint = field(link, 'constraint')
      if (typeof constraint !== 'object' || constraint === null) continue
      if (field(constraint, 'index') === unique.index || sameColumns(field(constraint, 'fields'), unique.columns))
        return true
    }
    if (field(link, 'code') === '23505' && field(link, 'constraint') === unique.index) return true
  }
  return false
}

export function toStoreError(error: unknown): unknown {
  if (error instanceof StoreUnavailableError) return error
  return isConnectionFailure(error) ? new StoreUnavailableError('postgres', { cause: error }) : error
}

/** Runs a store operation, turning an unreachable server into StoreUnavailableError. */
export async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    throw toStoreError(error)
  }
}
