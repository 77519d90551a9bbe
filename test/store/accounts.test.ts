import { accountStoreContract } from './contracts/accounts.js'
import { forEachKind } from './contracts/harness.js'

forEachKind('AccountStore', accountStoreContract)
