import { AppError } from '../errors.js'
import type { AccountRecord, AuditEntry, AuditType } from '../store/ports/index.js'
import type { Services } from '../services.js'
import type { AdminCaller, Origin } from '../rpc/define-method.js'

/** Operators name accounts by login (case-insensitive). */
export async function accountByLogin(services: Services, login: string): Promise<AccountRecord> {
  const account = await services.stores.accounts.findByLogin(login)
  if (account === null) throw new AppError('NOT_FOUND', 'No account has that login.')
  return account
}

/** The event the user sees in their own history: which operator key, and why. */
export function operatorAudit(type: AuditType, caller: AdminCaller, origin: Origin, reason: string): AuditEntry {
  return { type, ...origin, detail: { admin: caller.keyName, reason } }
}

/**
 * After the decisive commit nothing may turn the done change into an error: follow-up work is
 * attempted and, if a store fails, logged for the operator to repeat the call.
 */
export async function afterCommit(services: Services, what: string, work: () => Promise<unknown>): Promise<void> {
  try {
    await work()
  } catch (err) {
    services.log.warn({ err, what }, 'follow-up after an operator change failed; repeat the call')
  }
}
