// Part of `npm run build`: the embedded database, created once (dist/pglite-template.tar.gz).
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { writePGliteTemplate } from './lib/pglite-template.js'

const file = join(fileURLToPath(new URL('..', import.meta.url)), 'dist', 'pglite-template.tar.gz')
const bytes = await writePGliteTemplate(file)
console.log(`embedded database template: ${file} (${bytes} bytes)`)
