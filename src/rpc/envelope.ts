/**
 * The error envelope of both transports, built here and nowhere else: the JSON-RPC error object
 * (`{code, message, data: {reason, …}}`), a JSON-RPC reply around it, and the /api body
 * `{"error": …}`. Every refusal the service writes, from the pipeline to the raw socket, comes
 * through these functions.
 */
import { type AppError, reasons } from '../errors.js'

export type Transport = 'rpc' | 'api'

export type RpcId = string | number | null

export interface ErrorObject {
  code: number
  message: string
  data: Record<string, unknown>
}

export interface RpcErrorReply {
  jsonrpc: '2.0'
  id: RpcId
  error: ErrorObject
}

// Anything shaped like a latchkey credential (session, pending, PAT, admin key), wherever it sits.
const credentialShape = /lk[s2pa]_[A-Za-z0-9]{6,}/g

/** Replaces credential-shaped substrings: the last guard against a credential coming back in an error. */
export function withoutCredentials(text: string): string {
  return text.replace(credentialShape, '[credential]')
}

function scrub(value: unknown): unknown {
  if (typeof value === 'string') return withoutCredentials(value)
  if (Array.isArray(value)) return value.map(scrub)
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {}
    for (const [key, inner] of Object.entries(value)) out[key] = scrub(inner)
    return out
  }
  return value
}

export function errorObject(error: AppError): ErrorObject {
  return {
    code: reasons[error.reason].rpcCode,
    message: withoutCredentials(error.message),
    data: scrub(error.data) as Record<string, unknown>,
  }
}

export function rpcErrorReply(id: RpcId, error: AppError): RpcErrorReply {
  return { jsonrpc: '2.0', id, error: errorObject(error) }
}

export function apiErrorBody(error: AppError): { error: ErrorObject } {
  return { error: errorObject(error) }
}

/** Which transport a path belongs to: `/rpc` (any query string aside) or everything else. */
export function transportOf(url: string): Transport {
  const path = url.split('?', 1)[0]
  return path === '/rpc' ? 'rpc' : 'api'
}

/** The body a refusal gets on `transport`: on /rpc a JSON-RPC error with `id: null`. */
export function errorBody(transport: Transport, error: AppError): RpcErrorReply | { error: ErrorObject } {
  return transport === 'rpc' ? rpcErrorReply(null, error) : apiErrorBody(error)
}

export function httpStatusOf(error: AppError): number {
  return reasons[error.reason].httpStatus
}
