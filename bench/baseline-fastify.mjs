// Baseline A: a bare Fastify 5 route answering small JSON, no logging, in its own process.
// The ceiling for any route of the service on this machine. Plain node, no TypeScript loader.
// It takes the same POST requests as the service's /api and /rpc routes (Fastify parses the JSON body).
import Fastify from 'fastify'

const app = Fastify({ logger: false })
app.post('/api/:method', async () => ({ ok: true }))
app.post('/rpc', async () => ({ ok: true }))
app.get('/readyz', async () => ({ ok: true }))
await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' })
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => app.close().then(() => process.exit(0)))
