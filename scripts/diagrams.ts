/**
 * Writes each machine's Mermaid diagram into the docs, between `<!-- diagram: <machine> … -->` and
 * `<!-- /diagram -->` markers (`npm run diagrams`). test/docs/diagrams.test.ts fails when a machine
 * changed and its diagram in the docs did not.
 */
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { diagramMachines } from "../src/cli/providers.js"
import { toMermaid } from "../src/diagram.js"

/** The docs files that embed diagrams. */
export const DIAGRAM_DOCS = ["docs/providers/komoju.md", "docs/providers/craftgate.md", "docs/providers/onekey.md", "docs/architecture.md"]

const MARKER = /(<!-- diagram: (\w+)[^\n]*-->\n)```mermaid\n[\s\S]*?```\n(<!-- \/diagram -->)/g

/** The text of a docs file with every marked diagram regenerated from its machine. */
export const withDiagrams = (text: string): string => {
  const machines = diagramMachines()
  return text.replace(MARKER, (_all, open: string, name: string, close: string) => {
    const m = machines[name]
    if (!m) throw new Error(`docs name a machine "${name}" that paystate does not have; machines: ${Object.keys(machines).join(", ")}`)
    return `${open}\`\`\`mermaid\n${toMermaid(m)}\n\`\`\`\n${close}`
  })
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) {
  const root = join(import.meta.dirname, "..")
  for (const f of DIAGRAM_DOCS) {
    const path = join(root, f)
    const before = readFileSync(path, "utf8")
    const after = withDiagrams(before)
    if (after !== before) {
      writeFileSync(path, after)
      console.log(`updated ${f}`)
    }
  }
}
