// Re-seals every TOTP secret and recovery code under the current key (the first in SECRETS_KEY).
// Rotation: put the new key first, keep the old ones after it, run this, then drop the old keys.
import { loadConfig } from '../src/config.js'
import { parseKeyring } from '../src/crypto/keyring.js'
import { createSecretBox } from '../src/crypto/secret-box.js'
import { openPrisma } from '../src/store/postgres/client.js'
import { createTwoFactorStore } from '../src/store/postgres/two-factor.js'
import { loadSecretsKey } from '../src/runtime.js'

const config = loadConfig()
const key = await loadSecretsKey(config)
const box = createSecretBox(parseKeyring(key.value))
const db = await openPrisma({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR })
try {
  const rows = await createTwoFactorStore(db.prisma, box).resealAll()
  console.log(`re-sealed ${rows} row(s) under key ${box.currentKeyId}`)
} finally {
  await db.close()
}
