import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

export const requestIdHeader = 'x-request-id'
/** The log field that carries it on every line written for a request. */
export const requestIdLogLabel = 'requestId'

const acceptable = /^[A-Za-z0-9._:-]{1,128}$/

/** A client's id when it is acceptable, else a fresh random one (never a guessable counter). */
export function requestIdFrom(value: string | string[] | undefined): string {
  return typeof value === 'string' && acceptable.test(value) ? value : randomUUID()
}

/** Fastify's genReqId. */
export function genReqId(request: IncomingMessage): string {
  return requestIdFrom(request.headers[requestIdHeader])
}
