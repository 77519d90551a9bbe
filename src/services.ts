import type { Logger } from 'pino'
import type { Config } from './config.js'
import type { Stores } from './store/ports/index.js'
import type { PasswordHasher } from './crypto/password-hash.js'
import type { ApiCatalog } from './api-catalog.js'
import type { SecretBox } from './crypto/secret-box.js'

/** What a method handler may use: configuration, the stores and a few stateless helpers. */
export interface Services {
  config: Config
  stores: Stores
  passwords: PasswordHasher
  catalog: ApiCatalog
  /** Seals secrets that must rest outside Postgres too (pending enrolments in Redis). */
  secretBox: SecretBox
  log: Logger
}
