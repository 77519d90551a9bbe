// Baseline B: raw bcrypt compare throughput at BCRYPT_COST with the service's libuv thread pool
// (UV_THREADPOOL_SIZE, default 4), in its own process. The ceiling for SignIn on this machine.
// Keeps twice the pool size of compares in flight, so the pool never idles; counts completions
// per window (a warm-up window, then `runs` windows). Prints one JSON line:
// {cost, threads, warmup: {seconds, compares}, runs: [{seconds, compares, rate, foreignCpuShare}]}.
import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import bcrypt from 'bcrypt'

// CPU used by other processes on the machine (a busy neighbour skews the window), as a share of all cores.
const ticks = 100 // USER_HZ on Linux
const machineBusyMs = () => {
  try {
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = readFileSync('/proc/stat', 'utf8')
      .split('\n', 1)[0]
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number)
    return ((user + nice + system + irq + softirq + steal) * 1000) / ticks
  } catch {
    return null
  }
}
const selfMs = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

const cost = Number(process.env.BCRYPT_COST ?? 12)
const threads = Number(process.env.UV_THREADPOOL_SIZE ?? 4)
const [warmupSeconds = 1, runs = 3, runSeconds = 4] = process.argv.slice(2).map(Number)

// The service compares a 44-character prehash (base64 of SHA-256), so this does too.
const password = 'x'.repeat(44)
const hash = await bcrypt.hash(password, cost)

let completed = 0
let stopping = false
const loop = async () => {
  while (!stopping) {
    await bcrypt.compare(password, hash)
    completed++
  }
}
const workers = Array.from({ length: threads * 2 }, loop)

const windows = []
const edges = []
if (warmupSeconds > 0) edges.push(warmupSeconds)
for (let i = 1; i <= runs; i++) edges.push(warmupSeconds + i * runSeconds)
const started = performance.now()
let windowStart = started
let windowCount = 0
let machineAt = machineBusyMs()
let selfAt = selfMs()
for (const edge of edges) {
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + edge * 1000 - performance.now())))
  const now = performance.now()
  const seconds = (now - windowStart) / 1000
  const machine = machineBusyMs()
  const self = selfMs()
  const foreignCpuShare =
    machine === null || machineAt === null
      ? null
      : Math.max(0, machine - machineAt - (self - selfAt)) / (seconds * 1000 * availableParallelism())
  windows.push({ seconds, compares: completed - windowCount, foreignCpuShare })
  windowStart = now
  windowCount = completed
  machineAt = machine
  selfAt = self
}
stopping = true
await Promise.all(workers)
const warmup = warmupSeconds > 0 ? windows.shift() : null
console.log(
  JSON.stringify({ cost, threads, warmup, runs: windows.map((w) => ({ ...w, rate: w.compares / w.seconds })) }),
)
