/** The reason catalog: the stable contract (`error.data.reason`), its JSON-RPC code and HTTP status. */
export const reasons = {
  PARSE_ERROR: { rpcCode: -32700, httpStatus: 400, message: 'The body is not valid JSON.' },
  INVALID_REQUEST: { rpcCode: -32600, httpStatus: 400, message: 'Not a valid JSON-RPC request.' },
  METHOD_NOT_FOUND: { rpcCode: -32601, httpStatus: 404, message: 'No such method.' },
  INVALID_PARAMS: { rpcCode: -32602, httpStatus: 400, message: 'Invalid params.' },
  INVALID_CREDENTIALS: { rpcCode: -32001, httpStatus: 401, message: 'Wrong login or password.' },
  UNAUTHENTICATED: { rpcCode: -32002, httpStatus: 401, message: 'A valid credential is required.' },
  INVALID_2FA_CODE: { rpcCode: -32003, httpStatus: 401, message: 'The code is wrong, used or malformed.' },
  FORBIDDEN: { rpcCode: -32004, httpStatus: 403, message: 'This credential may not call this method.' },
  NOT_FOUND: { rpcCode: -32005, httpStatus: 404, message: 'Not found.' },
  CONFLICT: { rpcCode: -32006, httpStatus: 409, message: 'The request conflicts with the current state.' },
  RATE_LIMITED: { rpcCode: -32029, httpStatus: 429, message: 'Too many attempts; retry later.' },
  UNAVAILABLE: {
    rpcCode: -32050,
    httpStatus: 503,
    message: 'A backing service is unavailable; nothing was changed, retry later.',
  },
  INTERNAL: { rpcCode: -32603, httpStatus: 500, message: 'Internal error.' },
} as const

export type Reason = keyof typeof reasons

export type ErrorData = { reason: Reason } & Record<string, unknown>

/** An error with a reason from the catalog. `message` must never contain a secret. */
export class AppError extends Error {
  readonly reason: Reason
  readonly details: Record<string, unknown>
  /** RATE_LIMITED: which limit refused the call, for metrics (never sent to the client). */
  rule?: string

  constructor(reason: Reason, message?: string, details: Record<string, unknown> = {}) {
    super(message ?? reasons[reason].message)
    this.name = 'AppError'
    this.reason = reason
    this.details = details
  }

  get data(): ErrorData {
    return { reason: this.reason, ...this.details }
  }
}

/** A backing store could not be reached; maps to UNAVAILABLE. Adapters wrap driver errors in it. */
export class StoreUnavailableError extends Error {
  constructor(store: 'postgres' | 'redis', options?: { cause?: unknown }) {
    super(`${store} is unavailable`, options)
    this.name = 'StoreUnavailableError'
  }
}
