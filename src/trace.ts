import type { IncomingMessage } from 'node:http'

// W3C Trace Context: version-traceid-parentid-flags, lowercase hex.
const traceparentPattern = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}(-|$)/
const zeros = /^0+$/

/**
 * The trace and parent span of a request's `traceparent` header, for its log lines; null when the
 * header is absent or invalid (the W3C rules: version ff, an all-zero id, or bad hex).
 */
export function traceContext(request: IncomingMessage): { traceId: string; spanId: string } | null {
  const header = request.headers.traceparent
  if (typeof header !== 'string' || header.length > 512) return null
  const match = traceparentPattern.exec(header.trim())
  if (match === null) return null
  const [, version, traceId, spanId] = match
  if (version === 'ff' || traceId === undefined || spanId === undefined) return null
  // Version 00 has exactly four fields; later versions may append more.
  if (version === '00' && header.trim().length !== 55) return null
  if (zeros.test(traceId) || zeros.test(spanId)) return null
  return { traceId, spanId }
}
