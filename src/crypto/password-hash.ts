import bcrypt from 'bcrypt'
import { passwordPrehash } from '../domain/passwords.js'

export interface PasswordHasher {
  hash(password: string): Promise<string>
  verify(password: string, hash: string): Promise<boolean>
  /** Spends the same time as a real check, for logins that do not exist. Always false. */
  verifyAgainstDummy(password: string): Promise<false>
}

/**
 * bcrypt over a prehash of the NFKC form: bcrypt alone ignores everything past 72 bytes, the
 * prehash makes every character count. bcrypt runs on libuv's thread pool (UV_THREADPOOL_SIZE).
 */
export async function createPasswordHasher(cost: number): Promise<PasswordHasher> {
  // Same cost as real hashes, so unknown logins take as long as wrong passwords.
  const dummyHash = await bcrypt.hash(passwordPrehash('latchkey dummy password'), cost)
  return {
    hash: (password) => bcrypt.hash(passwordPrehash(password), cost),
    verify: (password, hash) => bcrypt.compare(passwordPrehash(password), hash),
    async verifyAgainstDummy(password) {
      await bcrypt.compare(passwordPrehash(password), dummyHash)
      return false
    },
  }
}
