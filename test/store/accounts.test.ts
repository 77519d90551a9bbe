import { accountStoreContract } from './contracts/accounts.js'
import { contractSuite } from '../support/contract.js'
import { postgresAdapters } from './contracts/harness.js'

contractSuite('AccountStore', postgresAdapters, accountStoreContract)
