import { reasons, type Reason } from '../errors.js'
import { type AnyMethod, pipelineReasons } from './define-method.js'

type Json = Record<string, unknown>

/** TypeBox schemas are JSON Schema already; a JSON round trip drops its symbol-keyed metadata. */
const plain = (schema: unknown): Json => JSON.parse(JSON.stringify(schema)) as Json

function describeAuth(method: AnyMethod): string {
  const auth = {
    none: 'No credential.',
    session: 'A full session (`lks_…`) only; personal access tokens get FORBIDDEN.',
    any: 'A session, or a personal access token whose apiList allows this method.',
    admin:
      'An operator key (`lka_…`, security scheme `operatorKey`) only; sessions and personal access tokens get FORBIDDEN, and so does everyone while ADMIN_API_KEYS is empty.',
  }[method.auth]
  const sensitive = method.sensitive
    ? ' ★ Sensitive: takes the account `password` again; never callable with a personal access token.'
    : ''
  const duringSetup =
    method.allowedDuringTwoFactorSetup === true
      ? ' Callable while an operator-required 2FA setup is overdue.'
      : method.auth === 'session' || method.auth === 'any'
        ? ' While an operator-required 2FA setup is overdue: FORBIDDEN with `twoFactorSetupRequired: true`.'
        : ''
  return `${auth}${sensitive}${duringSetup}`
}

function requestSchema(method: AnyMethod): Json {
  const schema = plain(method.params)
  if (method.auth === 'none') return schema
  const properties = { ...(schema['properties'] as Json | undefined) }
  properties['session'] = {
    type: 'string',
    description:
      'The credential, for clients that cannot set the Authorization header. The header wins when both are sent.',
  }
  return { ...schema, properties }
}

/** The HTTP layer's own refusals (before any method runs), as shared responses of each transport. */
const httpRefusals = {
  '405': 'Wrong HTTP method for this path (INVALID_REQUEST); the Allow header says which.',
  '408': 'The request did not fully arrive within REQUEST_TIMEOUT_SECONDS (INVALID_REQUEST); the connection closes.',
  '413': 'Body larger than BODY_LIMIT_BYTES (INVALID_REQUEST).',
  '414': 'URL too long (INVALID_REQUEST).',
  '431': 'Request headers too large (INVALID_REQUEST).',
} as const

function refusalResponses(transport: 'Api' | 'Rpc'): Json {
  return Object.fromEntries(
    Object.keys(httpRefusals).map((status) => [status, { $ref: `#/components/responses/${transport}${status}` }]),
  )
}

function refusalComponents(): Json {
  const components: Json = {}
  for (const [status, description] of Object.entries(httpRefusals)) {
    const headers =
      status === '405'
        ? { Allow: { schema: { type: 'string' }, description: 'The HTTP methods this path answers.' } }
        : {}
    components[`Api${status}`] = {
      description,
      headers,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBody' } } },
    }
    components[`Rpc${status}`] = {
      description: `${description} A JSON-RPC error object with id null.`,
      headers,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/JsonRpcResponse' } } },
    }
  }
  return components
}

function operation(method: AnyMethod): Json {
  const errorReasons = [...new Set<Reason>([...pipelineReasons(method), ...method.errors])]
  const byStatus = new Map<number, Reason[]>()
  for (const reason of errorReasons) {
    const status = reasons[reason].httpStatus
    byStatus.set(status, [...(byStatus.get(status) ?? []), reason])
  }
  const responses: Json = {
    '200': { description: 'The result.', content: { 'application/json': { schema: plain(method.result) } } },
  }
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    responses[String(status)] = {
      description: list.join(', '),
      ...(status === 429
        ? { headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'Seconds to wait.' } } }
        : {}),
      content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBody' } } },
    }
  }
  Object.assign(responses, refusalResponses('Api'))
  return {
    operationId: method.name,
    summary: method.summary,
    description: `${describeAuth(method)} Also callable as JSON-RPC method \`${method.name}\` on /rpc.`,
    tags: [{ none: 'sign-in', any: 'credentials', session: 'account', admin: 'admin' }[method.auth]],
    ...(method.auth === 'none' ? { security: [] } : method.auth === 'admin' ? { security: [{ operatorKey: [] }] } : {}),
    requestBody: {
      required: false,
      description: 'The params object; an empty body means {}, a JSON null is INVALID_PARAMS.',
      content: { 'application/json': { schema: requestSchema(method) } },
    },
    responses,
  }
}

const jsonRpcError = {
  type: 'object',
  required: ['code', 'message'],
  properties: {
    code: {
      type: 'integer',
      description: "JSON-RPC code: the spec's -32700…-32600 or the service's from the reason table.",
    },
    message: { type: 'string' },
    data: { $ref: '#/components/schemas/ErrorData' },
  },
}

/** OpenAPI 3.1 for both transports, written from the method table alone. */
export function buildOpenApi(table: readonly AnyMethod[], version: string): Json {
  const paths: Json = {}
  for (const method of table) paths[`/api/${method.name}`] = { post: operation(method) }
  const reasonList = Object.keys(reasons) as Reason[]

  paths['/rpc'] = {
    post: {
      operationId: 'jsonRpc',
      summary: 'JSON-RPC 2.0 endpoint for every method of this document.',
      description:
        'Single calls and batches (replies in any order; at most BATCH_LIMIT calls, default 20), notifications (no reply; HTTP 204 when nothing is returned). ' +
        'Params are a named object; positional params are -32602. Every reply body comes with HTTP 200. Each call in a batch counts against rate limits as if sent alone.',
      tags: ['transport'],
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              oneOf: [
                { $ref: '#/components/schemas/JsonRpcRequest' },
                { type: 'array', items: { $ref: '#/components/schemas/JsonRpcRequest' } },
              ],
            },
          },
        },
      },
      responses: {
        '200': {
          description: 'A reply, or an array of replies for a batch.',
          content: {
            'application/json': {
              schema: {
                oneOf: [
                  { $ref: '#/components/schemas/JsonRpcResponse' },
                  { type: 'array', items: { $ref: '#/components/schemas/JsonRpcResponse' } },
                ],
              },
            },
          },
        },
        '204': { description: 'Only notifications: no reply.' },
        ...refusalResponses('Rpc'),
      },
    },
  }
  // The HTTP layer's own refusals reach the probes too (a GET carries no body, so no 413).
  const probeRefused = Object.fromEntries(
    Object.entries(refusalResponses('Api')).filter(([status]) => status !== '413'),
  )
  paths['/healthz'] = {
    get: {
      operationId: 'healthz',
      summary: 'Liveness: 200 while the process runs.',
      tags: ['health'],
      security: [],
      responses: {
        '200': {
          description: 'Alive.',
          content: { 'application/json': { schema: { type: 'object', properties: { status: { const: 'ok' } } } } },
        },
        ...probeRefused,
      },
    },
  }
  const readiness = {
    type: 'object',
    properties: {
      status: { enum: ['ready', 'unavailable'] },
      postgres: { type: 'boolean' },
      redis: { type: 'boolean' },
    },
  }
  paths['/readyz'] = {
    get: {
      operationId: 'readyz',
      summary: 'Readiness: 200 when Postgres and Redis both answer, else 503.',
      tags: ['health'],
      security: [],
      responses: {
        '200': { description: 'Ready.', content: { 'application/json': { schema: readiness } } },
        '503': {
          description: 'A backing store does not answer (on a Redis Cluster: cluster_state is not ok).',
          content: { 'application/json': { schema: readiness } },
        },
        ...probeRefused,
      },
    },
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'latchkey',
      version,
      description:
        'Authentication service: sign-in with optional TOTP second factor, sessions and personal access tokens. ' +
        'Every method is POST /api/{Method} with the params object as body, and the same method on the JSON-RPC 2.0 endpoint POST /rpc. ' +
        'Every response carries Cache-Control: no-store and X-Request-Id (a client value of 1–128 characters of A-Za-z0-9._:- is kept, otherwise one is made). ' +
        'A call waits on Postgres and Redis at most STORE_TIMEOUT_MS in all, then answers UNAVAILABLE. Credentials: Authorization: Bearer lks_… (session) or lkp_… (personal access token), or the `session` param; never the query string. ' +
        'Operators call the admin methods with an lka_… key (security scheme operatorKey).',
      // Internal software (package.json: UNLICENSED): no open-source licence is granted.
      license: { name: 'Proprietary (UNLICENSED)', identifier: 'LicenseRef-Proprietary' },
    },
    tags: [
      { name: 'sign-in', description: 'No credential needed.' },
      { name: 'account', description: 'A full session needed.' },
      { name: 'credentials', description: 'A session or a personal access token.' },
      { name: 'admin', description: 'Operators: an lka_ key listed (as its SHA-256) in ADMIN_API_KEYS.' },
      { name: 'transport', description: 'JSON-RPC 2.0.' },
      { name: 'health', description: 'Probes.' },
    ],
    // Every deployment has its own address; the default is where `npm start` listens.
    servers: [
      {
        url: '{origin}',
        description: 'A latchkey instance.',
        variables: {
          origin: { default: 'http://127.0.0.1:3000', description: 'Scheme, host and port of the instance.' },
        },
      },
    ],
    security: [{ bearer: [] }],
    paths,
    components: {
      responses: refusalComponents(),
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'lks_… session or lkp_… personal access token.' },
        operatorKey: {
          type: 'http',
          scheme: 'bearer',
          description:
            'lka_… operator key, for the admin methods only (on any other method: FORBIDDEN). The service stores no key: ADMIN_API_KEYS lists name:sha256hex entries; `npm run admin-key -- NAME` makes a key and its entry. Unknown key: UNAUTHENTICATED; no entry configured: every admin method answers FORBIDDEN.',
        },
      },
      schemas: {
        Reason: {
          type: 'string',
          enum: reasonList,
          description: reasonList
            .map((r) => `${r} (JSON-RPC ${reasons[r].rpcCode}, HTTP ${reasons[r].httpStatus}): ${reasons[r].message}`)
            .join('\n'),
        },
        ErrorData: {
          type: 'object',
          required: ['reason'],
          properties: {
            reason: { $ref: '#/components/schemas/Reason' },
            errors: {
              type: 'array',
              items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } },
              description: 'INVALID_PARAMS: which fields.',
            },
            attemptsLeft: {
              type: 'integer',
              description: 'INVALID_2FA_CODE: wrong codes the pending token or enrolment still survives.',
            },
            retryAfter: { type: 'integer', description: 'RATE_LIMITED: seconds to wait.' },
            twoFactorSetupRequired: {
              type: 'boolean',
              description:
                'FORBIDDEN: an operator requires 2FA, the deadline has passed and 2FA is off; turn it on (Get2FAConfig, Enable2FA).',
            },
            locked: { type: 'boolean', description: 'FORBIDDEN: the account is locked by an operator.' },
          },
        },
        ErrorBody: { type: 'object', required: ['error'], properties: { error: jsonRpcError } },
        JsonRpcRequest: {
          type: 'object',
          required: ['jsonrpc', 'method'],
          properties: {
            jsonrpc: { const: '2.0' },
            method: { type: 'string', enum: table.map((m) => m.name) },
            params: { type: 'object' },
            id: { type: ['string', 'number', 'null'], description: 'Absent: a notification (no reply).' },
          },
        },
        JsonRpcResponse: {
          type: 'object',
          required: ['jsonrpc', 'id'],
          properties: {
            jsonrpc: { const: '2.0' },
            id: { type: ['string', 'number', 'null'] },
            result: {},
            error: jsonRpcError,
          },
        },
      },
    },
  }
}
