import type { FastifyRequest } from 'fastify'
import type { Origin } from './define-method.js'

/** The credential from `Authorization: Bearer …`; anything else in that header is passed on to fail. */
export function bearerOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization
  if (header === undefined) return undefined
  return /^bearer /i.test(header) ? header.slice(7).trim() : header
}

export function originOf(request: FastifyRequest): Origin {
  const userAgent = request.headers['user-agent']
  return { ip: request.ip, userAgent: userAgent === undefined ? null : userAgent.slice(0, 512) }
}

export type Parsed = { ok: true; value: unknown } | { ok: false }

/** Bodies reach the transports as raw text so that bad JSON gets the contract's answer. */
export function parseJsonBody(body: unknown, emptyValue?: unknown): Parsed {
  const text = typeof body === 'string' ? body : ''
  if (text.trim() === '' && emptyValue !== undefined) return { ok: true, value: emptyValue }
  try {
    return { ok: true, value: JSON.parse(text) }
  } catch {
    return { ok: false }
  }
}
