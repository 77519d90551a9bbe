/** Operator keys and the admin calls the operator tests share. */
import assert from 'node:assert/strict'
import { newAdminKey } from '../../src/domain/credentials.js'
import { adminKeyEntry } from '../../src/domain/admin-keys.js'
import type { TestApp } from './app.js'
import { list, ok, type Json, type Transport } from './calls.js'

export interface Operators {
  /** Key by name. */
  keys: Record<string, string>
  /** The ADMIN_API_KEYS setting that admits them. */
  env: { ADMIN_API_KEYS: string }
}

export function operators(...names: string[]): Operators {
  const keys = Object.fromEntries(names.map((name) => [name, newAdminKey()]))
  return {
    keys,
    env: {
      ADMIN_API_KEYS: Object.entries(keys)
        .map(([n, k]) => adminKeyEntry(n, k))
        .join(','),
    },
  }
}

export const keyOf = (ops: Operators, name: string): string => {
  const key = ops.keys[name]
  assert.ok(key !== undefined, name)
  return key
}

/** The account's own history, as the user sees it with their session. */
export async function ownHistory(t: TestApp, transport: Transport, session: string, limit = 50): Promise<Json[]> {
  return list((await ok(t, transport, 'GetSigninHistory', { limit }, { bearer: session }))['events'])
}

export async function createToken(t: TestApp, session: string, password: string, extra: Json = {}) {
  const created = await ok(
    t,
    'api',
    'CreateToken',
    { password, description: 'operator test', ...extra },
    { bearer: session },
  )
  return { id: String(created['id']), token: String(created['token']) }
}

/** The newest event of `type`; fails the test when there is none. */
export function newest(events: Json[], type: string): Json {
  const event = events.find((e) => e['type'] === type)
  assert.ok(event !== undefined, `no ${type} event in ${JSON.stringify(events.map((e) => e['type']))}`)
  return event
}
