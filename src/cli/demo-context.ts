/**
 * What a provider's demo journey receives from `paystate demo`: an engine on the demo store, the
 * provider's sandbox already running (its webhooks pointed at the engine), and a timeline printer.
 */
import type { RunningSandbox } from "../../adapters/sandbox/kernel.js"
import type { ManualClock } from "../clock.js"
import type { PaymentView, PaystateEngine } from "../types.js"

/** Context handed to each provider's demo journey. */
export interface DemoContext {
  readonly engine: PaystateEngine
  readonly sandbox: RunningSandbox
  /** The engine's clock; move it together with the sandbox clock via `setTime`. */
  readonly clock: ManualClock
  /** Moves both the engine clock and the sandbox clock. */
  setTime(iso: string): Promise<void>
  /** Prints a headline for one journey. */
  title(text: string): void
  /** Prints one timeline line: what happened and the payment's state after it. */
  step(text: string, payment?: PaymentView): void
  /** Waits until webhooks the sandbox sent have been handled by the engine. */
  settle(): Promise<void>
}
