import type { FastifyInstance, FastifyReply } from 'fastify'
import { AppError } from '../errors.js'
import type { Invoker } from './invoke.js'
import { bearerOf, originOf, parseJsonBody } from './http-common.js'
import { apiErrorBody, httpStatusOf } from './envelope.js'

/** The error body of /api: `{error: {code, message, data: {reason, …}}}` with the reason's HTTP status. */
export function sendApiError(
  reply: FastifyReply,
  error: AppError,
  httpStatus: number = httpStatusOf(error),
): FastifyReply {
  const retryAfter = error.details['retryAfter']
  if (typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter))
  return reply.code(httpStatus).send(apiErrorBody(error))
}

/** POST /api/{Method}: the params object is the body (empty means `{}`; JSON null is refused). */
export function registerHttpApi(app: FastifyInstance, invoker: Invoker): void {
  app.post<{ Params: { method: string } }>('/api/:method', async (request, reply) => {
    const { method } = request.params
    // The path is the caller's input (an lks_ credential pasted there must not come back).
    if (!invoker.has(method)) return sendApiError(reply, new AppError('METHOD_NOT_FOUND', 'There is no such method.'))
    const parsed = parseJsonBody(request.body, {})
    if (!parsed.ok) return sendApiError(reply, new AppError('PARSE_ERROR', 'The body is not valid JSON.'))
    const outcome = await invoker.invoke({
      method,
      params: parsed.value,
      bearer: bearerOf(request),
      origin: originOf(request),
      log: request.log,
      request,
    })
    return outcome.ok ? outcome.result : sendApiError(reply, outcome.error)
  })
}
