import { auditStoreContract } from './contracts/audit.js'
import { contractSuite } from '../support/contract.js'
import { postgresAdapters } from './contracts/harness.js'

contractSuite('AuditStore', postgresAdapters, auditStoreContract)
