/** The store contract suite lives in `paystate/testing/store-contract` (shipped to third-party stores); the project's store tests use the same one. */
export * from "../../src/testing/store-contract.js"
