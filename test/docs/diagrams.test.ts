/** Each machine's diagram in the docs is the one the machine draws: a machine change without `npm run diagrams` fails here. */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { DIAGRAM_DOCS, withDiagrams } from "../../scripts/diagrams.js"
import { diagramMachines } from "../../src/cli/providers.js"

const root = join(import.meta.dirname, "../..")

describe("diagrams in docs", () => {
  for (const f of DIAGRAM_DOCS) {
    it(`${f} embeds its machines' current diagrams (run \`npm run diagrams\` after a machine change)`, () => {
      const text = readFileSync(join(root, f), "utf8")
      expect(text).toContain("<!-- diagram:")
      expect(withDiagrams(text)).toBe(text)
    })
  }

  it("every payment and refund machine is drawn in some doc, and a stale diagram is caught", () => {
    const all = DIAGRAM_DOCS.map((f) => readFileSync(join(root, f), "utf8")).join("\n")
    for (const name of Object.keys(diagramMachines())) expect(all).toContain(`<!-- diagram: ${name} `)
    const stale = all.replace("deciding --> cancelling: [sameDayWithoutPartial]", "deciding --> cancelling: [always]")
    expect(withDiagrams(stale)).not.toBe(stale)
  })
})
