import { Type } from '@sinclair/typebox'
import { defineMethod } from '../../src/rpc/define-method.js'

/**
 * A token-callable stand-in for a platform method behind the real pipeline: the service's only
 * own `any` method is GetSession, which ignores apiList by contract.
 */
export function probeMethod(name: string, onRun: () => void = () => {}) {
  return defineMethod({
    name,
    summary: 'Probe.',
    auth: 'any',
    sensitive: false,
    params: Type.Object({}, { additionalProperties: false }),
    result: Type.Object({}),
    errors: [],
    async handle() {
      onRun()
      return {}
    },
  })
}
