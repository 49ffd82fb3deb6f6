/** The security suite on the memory store (row counts through the Store interface). */
import { memoryStore } from "../../adapters/stores/memory.js"
import { securitySuite } from "./suite.js"
import { apiCounts } from "./world.js"

securitySuite("memory", async () => {
  const store = memoryStore()
  return { name: "memory", store, counts: () => apiCounts(store) }
})
