// Bundles the account page (web/account) into dist/account: index.html plus assets whose file
// names carry a content hash, so the server may let browsers cache them forever.
import { mkdir, rm, writeFile, readFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))

export interface PageBuild {
  dir: string
  assets: { file: string; bytes: number }[]
}

export async function buildAccountPage(outDir = join(root, 'dist', 'account')): Promise<PageBuild> {
  const assetsDir = join(outDir, 'assets')
  await rm(outDir, { recursive: true, force: true })
  await mkdir(assetsDir, { recursive: true })
  const result = await build({
    entryPoints: [join(root, 'web', 'account', 'main.ts')],
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022'],
    entryNames: '[name]-[hash]',
    outdir: assetsDir,
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
  })
  const outputs = Object.keys(result.metafile.outputs).map((file) => basename(file))
  const script = outputs.find((file) => file.endsWith('.js'))
  const style = outputs.find((file) => file.endsWith('.css'))
  if (script === undefined || style === undefined) throw new Error(`page build made ${outputs.join(', ')}`)
  const template = await readFile(join(root, 'web', 'account', 'index.html'), 'utf8')
  const html = template
    .replace('{{script}}', `/account/assets/${script}`)
    .replace('{{style}}', `/account/assets/${style}`)
  await writeFile(join(outDir, 'index.html'), html)
  return {
    dir: outDir,
    assets: Object.entries(result.metafile.outputs).map(([file, meta]) => ({
      file: basename(file),
      bytes: meta.bytes,
    })),
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const built = await buildAccountPage()
  for (const asset of built.assets) console.log(`account page: ${asset.file} ${asset.bytes} bytes`)
}
