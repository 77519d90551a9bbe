import type { SecretBox } from '../../crypto/secret-box.js'
import type { PrismaClient } from '../../../generated/prisma/client.js'
import type { Stores } from '../ports/index.js'
import { createAccountStore } from './accounts.js'
import { createAuditStore } from './audit.js'
import { createTokenStore } from './tokens.js'
import { createTwoFactorStore } from './two-factor.js'

export interface PostgresStores extends Pick<Stores, 'accounts' | 'audit' | 'twoFactor' | 'tokens'> {
  /** Whether the database answers within `timeoutMs` (for /readyz). Never throws. */
  ping(timeoutMs?: number): Promise<boolean>
}

export function openPostgresStores(prisma: PrismaClient, secretBox: SecretBox): PostgresStores {
  return {
    accounts: createAccountStore(prisma),
    audit: createAuditStore(prisma),
    twoFactor: createTwoFactorStore(prisma, secretBox),
    tokens: createTokenStore(prisma),
    async ping(timeoutMs = 2000) {
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs)
      })
      const query = prisma.$queryRaw`SELECT 1`.then(
        () => true,
        () => false,
      )
      try {
        return await Promise.race([query, timeout])
      } finally {
        clearTimeout(timer)
      }
    },
  }
}

export { openPrisma, type OpenedPrisma } from './client.js'
export { applyMigrations } from './migrate.js'
export { isConnectionFailure, toStoreError } from './errors.js'
