import type { FastifyInstance, FastifyReply } from 'fastify'
import { AppError, reasons } from '../errors.js'
import type { Invoker } from './invoke.js'
import { bearerOf, originOf, parseJsonBody } from './http-common.js'

/** The error body of /api: `{error: {code, message, data: {reason, …}}}` with the reason's HTTP status. */
export function sendApiError(
  reply: FastifyReply,
  error: AppError,
  httpStatus: number = reasons[error.reason].httpStatus,
): FastifyReply {
  const retryAfter = error.details['retryAfter']
  if (typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter))
  return reply
    .code(httpStatus)
    .send({ error: { code: reasons[error.reason].rpcCode, message: error.message, data: error.data } })
}

/** POST /api/{Method}: the params object is the body (empty means `{}`). */
export function registerHttpApi(app: FastifyInstance, invoker: Invoker): void {
  app.post<{ Params: { method: string } }>('/api/:method', async (request, reply) => {
    const { method } = request.params
    if (!invoker.has(method))
      return sendApiError(
        reply,
        new AppError('METHOD_NOT_FOUND', `There is no method named ${JSON.stringify(method.slice(0, 100))}.`),
      )
    const parsed = parseJsonBody(request.body, {})
    if (!parsed.ok) return sendApiError(reply, new AppError('PARSE_ERROR', 'The body is not valid JSON.'))
    const outcome = await invoker.invoke({
      method,
      params: parsed.value,
      bearer: bearerOf(request),
      origin: originOf(request),
      log: request.log,
    })
    return outcome.ok ? outcome.result : sendApiError(reply, outcome.error)
  })
}
