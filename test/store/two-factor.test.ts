import { twoFactorStoreContract } from './contracts/two-factor.js'
import { forEachKind } from './contracts/harness.js'

forEachKind('TwoFactorStore', twoFactorStoreContract)
