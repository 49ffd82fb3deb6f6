import { memoryStore } from "../../adapters/stores/memory.js"
import { storeContract } from "./contract.js"

storeContract("memory", () => memoryStore())
