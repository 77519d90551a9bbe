/**
 * A token's apiList: exact method names, or prefix wildcards over dotted segments such as
 * `environment.*`. A wildcard must name a prefix that exists in the catalog, so a typo is
 * refused when the token is created rather than silently granting nothing.
 */

const wildcardSuffix = '.*'
const dottedPrefix = /^[^.*]+(\.[^.*]+)*$/

/** `a.b.*` → `a.b.`; null when the entry is not a well-formed wildcard (bare `*` included). */
function wildcardStem(entry: string): string | null {
  if (!entry.endsWith(wildcardSuffix)) return null
  const prefix = entry.slice(0, -wildcardSuffix.length)
  return dottedPrefix.test(prefix) ? `${prefix}.` : null
}

function entryMatches(entry: string, method: string): boolean {
  if (entry === method) return true
  const stem = wildcardStem(entry)
  return stem !== null && method.length > stem.length && method.startsWith(stem)
}

export function isKnownApiListEntry(entry: string, catalog: ReadonlySet<string>): boolean {
  if (catalog.has(entry)) return true
  if (wildcardStem(entry) === null) return false
  for (const name of catalog) if (entryMatches(entry, name)) return true
  return false
}

/** `null` means the token was created without an apiList: every method. */
export function apiListAllows(apiList: readonly string[] | null, method: string): boolean {
  if (apiList === null) return true
  return apiList.some((entry) => entryMatches(entry, method))
}

export function unknownApiListEntries(apiList: readonly string[], catalog: ReadonlySet<string>): string[] {
  return [...new Set(apiList.filter((entry) => !isKnownApiListEntry(entry, catalog)))]
}
