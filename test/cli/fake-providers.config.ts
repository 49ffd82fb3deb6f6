/**
 * A `--config` module as a host writes one: it exports the providers its engine runs with. Here the
 * in-process fake provider; a host exports `{ komoju: komoju({...}), ... }` from its own config.
 */
import { fakeProvider } from "../../src/testing/fake-provider.js"

/** The providers the CLI runs `review retry` / `review resolve` with. */
export const providers = { fake: fakeProvider() }
