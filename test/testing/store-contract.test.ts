/**
 * The store contract suite as shipped (`paystate/testing/store-contract`), run as a third-party store
 * author would run it, on the memory store. test/stores/ runs the same suite on every store here.
 */
import { memoryStore } from "../../adapters/stores/memory.js"
import { storeContract } from "../../src/testing/store-contract.js"

storeContract("memory, through paystate/testing/store-contract", (options) => memoryStore(options))
