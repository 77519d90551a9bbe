// Applies pending migrations (the service does this at start too; the Dockerfile runs it first).
import { loadConfig } from '../src/config.js'
import { openPrisma } from '../src/store/postgres/client.js'

const config = loadConfig()
const db = await openPrisma({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR })
console.log(`migrations up to date (${db.kind})`)
await db.close()
