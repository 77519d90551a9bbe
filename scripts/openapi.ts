// Writes openapi.yaml from the method table; `--check` fails when the committed file differs.
import { readFileSync, writeFileSync } from 'node:fs'
import { renderOpenApiYaml } from './openapi-render.js'

const rendered = renderOpenApiYaml()
if (process.argv.includes('--check')) {
  if (readFileSync('openapi.yaml', 'utf8') !== rendered) {
    console.error('openapi.yaml is out of date: run npm run openapi')
    process.exit(1)
  }
} else {
  writeFileSync('openapi.yaml', rendered)
  console.log('wrote openapi.yaml')
}
