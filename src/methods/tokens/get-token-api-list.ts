import { Type } from '@sinclair/typebox'
import { defineMethod } from '../../rpc/define-method.js'
import { Empty } from '../schemas.js'

export const getTokenApiList = defineMethod({
  name: 'GetTokenApiList',
  summary:
    "What a personal access token may be granted: this service's own token-callable methods and the platform's API methods.",
  auth: 'session',
  sensitive: false,
  params: Empty,
  result: Type.Object({
    methods: Type.Array(Type.Object({ name: Type.String(), description: Type.String() })),
  }),
  errors: [],
  async handle({ services }) {
    return { methods: services.catalog.methods.map(({ name, description }) => ({ name, description })) }
  },
})
