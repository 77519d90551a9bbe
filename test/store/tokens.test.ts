import { tokenStoreContract } from './contracts/tokens.js'
import { contractSuite } from '../support/contract.js'
import { postgresAdapters } from './contracts/harness.js'

contractSuite('TokenStore', postgresAdapters, tokenStoreContract)
