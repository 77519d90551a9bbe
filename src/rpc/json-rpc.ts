import type { FastifyInstance, FastifyRequest } from 'fastify'
import { AppError } from '../errors.js'
import type { Invoker } from './invoke.js'
import type { Caller } from './define-method.js'
import { bearerOf, originOf, parseJsonBody } from './http-common.js'
import { rpcErrorReply as errorReply, type RpcErrorReply, type RpcId as Id } from './envelope.js'

type Reply = RpcErrorReply | { jsonrpc: '2.0'; id: Id; result: unknown }

const invalidRequest = (id: Id, why: string) =>
  errorReply(id, new AppError('INVALID_REQUEST', `Invalid request: ${why}.`))

function isId(value: unknown): value is Id {
  return value === null || typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))
}

/** POST /rpc: JSON-RPC 2.0 envelopes, batches and notifications around the one pipeline. */
export function registerJsonRpc(app: FastifyInstance, invoker: Invoker, batchLimit: number): void {
  async function handleOne(
    message: unknown,
    request: FastifyRequest,
    credentials?: Map<string, Promise<Caller>>,
  ): Promise<Reply | null> {
    if (typeof message !== 'object' || message === null || Array.isArray(message))
      return invalidRequest(null, 'expected an object')
    const envelope = message as Record<string, unknown>
    const isNotification = !('id' in envelope)
    const id = isId(envelope['id']) ? envelope['id'] : null
    if (!isNotification && !isId(envelope['id'])) return invalidRequest(null, 'id must be a string, a number or null')
    if (envelope['jsonrpc'] !== '2.0') return invalidRequest(id, 'jsonrpc must be "2.0"')
    const method = envelope['method']
    if (typeof method !== 'string') return invalidRequest(id, 'method must be a string')
    const params = envelope['params']
    // JSON-RPC 2.0: params, when present, is a structured value; null is not (arrays go on to -32602).
    if (params !== undefined && (typeof params !== 'object' || params === null))
      return invalidRequest(id, 'params must be an object')

    const outcome = method.startsWith('rpc.')
      ? { ok: false as const, error: new AppError('METHOD_NOT_FOUND', 'Names starting with rpc. are reserved.') }
      : await invoker.invoke({
          method,
          params,
          bearer: bearerOf(request),
          origin: originOf(request),
          log: request.log,
          request,
          credentials,
        })
    if (isNotification) return null
    return outcome.ok ? { jsonrpc: '2.0', id, result: outcome.result } : errorReply(id, outcome.error)
  }

  app.post('/rpc', async (request, reply) => {
    const parsed = parseJsonBody(request.body)
    if (!parsed.ok) return errorReply(null, new AppError('PARSE_ERROR', 'Parse error: the body is not valid JSON.'))
    const body = parsed.value

    if (!Array.isArray(body)) {
      const single = await handleOne(body, request)
      if (single === null) return reply.code(204).send()
      return single
    }
    if (body.length === 0) return invalidRequest(null, 'an empty batch')
    if (body.length > batchLimit) return invalidRequest(null, `a batch holds at most ${batchLimit} calls`)
    // Each call runs the whole pipeline on its own: limits count it as if it had come alone.
    const credentials = new Map<string, Promise<Caller>>()
    const replies = (await Promise.all(body.map((message) => handleOne(message, request, credentials)))).filter(
      (r) => r !== null,
    )
    if (replies.length === 0) return reply.code(204).send()
    return replies
  })
}
