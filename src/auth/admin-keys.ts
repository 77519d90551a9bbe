import type { Config } from '../config.js'
import { type AdminKeyEntry, parseAdminKeys } from '../domain/admin-keys.js'

// Parsed once per configuration (loadConfig has already refused a malformed value).
const parsed = new WeakMap<Config, readonly AdminKeyEntry[]>()

export function adminKeys(config: Config): readonly AdminKeyEntry[] {
  let entries = parsed.get(config)
  if (entries === undefined) {
    entries = Object.freeze(parseAdminKeys(config.ADMIN_API_KEYS))
    parsed.set(config, entries)
  }
  return entries
}

/** No entry in ADMIN_API_KEYS: the admin methods answer FORBIDDEN to everyone. */
export function adminApiEnabled(config: Config): boolean {
  return adminKeys(config).length > 0
}
