// The spec reporter, with node's coverage report narrowed to the code under test: files under
// test/, generated/ and node_modules/ are left out (Node 20 has no --test-coverage-exclude).
import { Readable } from 'node:stream'
import { relative } from 'node:path'
import { spec } from 'node:test/reporters'

const excluded = /^(test|generated|node_modules)\//

const percent = (covered, total) => (total === 0 ? 100 : (100 * covered) / total)
const cell = (covered, total) => `${percent(covered, total).toFixed(2).padStart(6)} %`

function summarize(files) {
  const kept = files
    .map((file) => ({ ...file, path: relative(process.cwd(), file.path) }))
    .filter((file) => !excluded.test(file.path))
  const sum = (key) => kept.reduce((n, file) => n + file[key], 0)
  const lines = [sum('coveredLineCount'), sum('totalLineCount')]
  const branches = [sum('coveredBranchCount'), sum('totalBranchCount')]
  const functions = [sum('coveredFunctionCount'), sum('totalFunctionCount')]
  const weakest = kept
    .map((file) => ({ path: file.path, line: percent(file.coveredLineCount, file.totalLineCount) }))
    .filter((file) => file.line < 100)
    .sort((a, b) => a.line - b.line)
    .slice(0, 10)
  return [
    '',
    `coverage of ${kept.length} source files (test/ and generated/ excluded)`,
    `  lines     ${cell(...lines)}  (${lines[0]} of ${lines[1]})`,
    `  branches  ${cell(...branches)}  (${branches[0]} of ${branches[1]})`,
    `  functions ${cell(...functions)}  (${functions[0]} of ${functions[1]})`,
    'least covered (lines):',
    ...weakest.map((file) => `  ${file.line.toFixed(1).padStart(5)} %  ${file.path}`),
    '',
  ].join('\n')
}

export default async function* reporter(source) {
  const coverage = []
  async function* withoutCoverage() {
    for await (const event of source) {
      if (event.type === 'test:coverage') coverage.push(event.data.summary.files)
      else yield event
    }
  }
  yield* Readable.from(withoutCoverage()).compose(new spec())
  for (const files of coverage) yield summarize(files)
}
