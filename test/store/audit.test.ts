import { auditStoreContract } from './contracts/audit.js'
import { forEachKind } from './contracts/harness.js'

forEachKind('AuditStore', auditStoreContract)
