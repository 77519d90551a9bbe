// `npm run admin-key -- NAME`: a new operator key and the ADMIN_API_KEYS entry that admits it.
// The key is shown once, here; the service only ever sees its SHA-256 (the entry).
import { newAdminKey } from '../src/domain/credentials.js'
import { adminKeyEntry, parseAdminKeys } from '../src/domain/admin-keys.js'

const name = process.argv[2]
if (name === undefined || process.argv.length > 3) {
  console.error('usage: npm run admin-key -- NAME   (NAME: 1–64 of A-Za-z0-9._@-, e.g. alice-oncall)')
  process.exit(2)
}
const key = newAdminKey()
const entry = adminKeyEntry(name, key)
try {
  parseAdminKeys(entry)
} catch {
  console.error(`"${name}" is not a valid key name: use 1–64 of A-Za-z0-9._@-`)
  process.exit(2)
}
console.log(`key (give it to ${name}; shown only now):\n  ${key}`)
console.log(`ADMIN_API_KEYS entry (append with a comma to the others):\n  ${entry}`)
