import { readFile } from 'node:fs/promises'
import { Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'

export interface ApiCatalogEntry {
  name: string
  description: string
}

/** What a personal access token may be granted: the service's own `any` methods plus the platform's. */
export interface ApiCatalog {
  methods: readonly ApiCatalogEntry[]
  names: ReadonlySet<string>
}

const CatalogFile = Type.Object({
  methods: Type.Array(
    Type.Object({
      name: Type.String({ pattern: '^[A-Za-z][A-Za-z0-9]*(\\.[A-Za-z][A-Za-z0-9]*)*$' }),
      description: Type.String(),
    }),
  ),
})

export function buildApiCatalog(own: readonly ApiCatalogEntry[], platform: readonly ApiCatalogEntry[]): ApiCatalog {
  const methods = [...own, ...platform].sort((a, b) => a.name.localeCompare(b.name))
  const names = new Set(methods.map((m) => m.name))
  if (names.size !== methods.length) throw new Error('API catalog: a method name appears twice')
  return { methods, names }
}

/** Reads the platform's methods from the catalog file (JSON: {"methods": [{name, description}]}). */
export async function loadPlatformCatalog(file: string): Promise<ApiCatalogEntry[]> {
  let parsed: unknown
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'))
  } catch (error) {
    throw new Error(`API catalog ${file}: ${error instanceof Error ? error.message : String(error)}`)
  }
  if (!Value.Check(CatalogFile, parsed)) {
    const first = [...Value.Errors(CatalogFile, parsed)][0]
    throw new Error(`API catalog ${file}: ${first?.path ?? ''} ${first?.message ?? 'invalid'}`)
  }
  return parsed.methods
}
