import net from 'node:net'
import { openTestPrisma, createTestDatabase } from './test/support/postgres.js'
import { openPrisma } from './src/store/postgres/client.js'
import { isConnectionFailure } from './src/store/postgres/errors.js'

function proxy(port: number) {
  let mode: 'forward' | 'blackhole' = 'forward'
  const sockets = new Set<net.Socket>()
  let server: net.Server | null = null
  const start = () => new Promise<void>((res) => {
    server = net.createServer((c) => {
      sockets.add(c); c.on('close', () => sockets.delete(c)); c.on('error', () => {})
      if (mode === 'blackhole') return
      const u = net.connect(5432, '127.0.0.1'); sockets.add(u); u.on('close', () => sockets.delete(u)); u.on('error', () => c.destroy())
      c.pipe(u); u.pipe(c); c.on('error', () => u.destroy())
    })
    server.listen(port, '127.0.0.1', () => res())
  })
  const stop = () => new Promise<void>((res) => { for (const s of sockets) s.destroy(); server!.close(() => res()) })
  return { start, stop, set: (m: typeof mode) => { mode = m } }
}
const db = await createTestDatabase()
const p = proxy(55432); await p.start()
const url = db.url.replace(':5432', ':55432')
const opened = await openPrisma({ databaseUrl: url, dataDir: '' })
const prisma = opened.prisma
const show = async (label: string) => {
  const t = Date.now()
  try { await prisma.account.count(); console.log(label, 'OK', Date.now() - t) } catch (e: any) {
    console.log(label, Date.now() - t, 'ms', e?.name, e?.code, JSON.stringify(e?.meta), String(e?.message).split('\n').slice(-1)[0], 'cause:', e?.cause?.name, e?.cause?.message, '=> unavailable?', isConnectionFailure(e))
  }
}
await show('up')
await p.stop()
await show('down(terminated)')
await show('down(refused)')
const tx = async () => { try { await prisma.$transaction(async (t) => t.account.count()); console.log('tx ok') } catch (e: any) { console.log('tx', e?.name, e?.code, String(e?.message).split('\n').slice(-1)[0], isConnectionFailure(e)) } }
await tx()
p.set('blackhole'); await p.start()
await show('blackhole')
await tx()
await p.stop(); p.set('forward'); await p.start()
await show('back')
await show('back2')
await tx()
await opened.close(); await p.stop(); await db.drop()
