import { twoFactorStoreContract } from './contracts/two-factor.js'
import { contractSuite } from '../support/contract.js'
import { postgresAdapters } from './contracts/harness.js'

contractSuite('TwoFactorStore', postgresAdapters, twoFactorStoreContract)
