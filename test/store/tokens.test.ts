import { tokenStoreContract } from './contracts/tokens.js'
import { forEachKind } from './contracts/harness.js'

forEachKind('TokenStore', tokenStoreContract)
