/** examples/fastify: the host app started as its README says, driven over HTTP, webhooks signed by the sandbox and by the test. */
import { describe, it } from "vitest"
import { exampleJourney } from "./journey.js"

describe("examples/fastify", () => {
  it("creates a konbini payment, moves it on signed webhooks (the sandbox's and the test's), refunds it, answers errors", () => exampleJourney("fastify"), 120_000)
})
