import { readFileSync } from 'node:fs'
import { stringify } from 'yaml'
import { buildOpenApi } from '../src/rpc/openapi.js'
import { methodTable } from '../src/rpc/methods.js'

/** The one rendering of openapi.yaml, shared by the generator script and the drift test. */
export function renderOpenApiYaml(): string {
  const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }
  const header = '# Generated from the method table by `npm run openapi`; do not edit by hand.\n'
  return header + stringify(buildOpenApi(methodTable, version), { lineWidth: 0, aliasDuplicateObjects: false })
}
