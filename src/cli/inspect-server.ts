/**
 * `paystate demo --inspect`: the Stately inspector's local WebSocket bridge (`@statelyai/inspect`,
 * an optional peer) and an inspector client connected to it, started only once the bridge listens so
 * the process can still exit (see docs/observability.md, "Stately inspector").
 */
import { createConnection } from "node:net"
import type { InspectFn } from "../inspect.js"
import { CliError } from "./args.js"

/** A running inspector bridge and the callback the engine sends its inspection events to. */
export interface DemoInspector {
  readonly url: string
  readonly inspect: InspectFn
  stop(): void
}

const listening = (port: number, tries = 100): Promise<void> =>
  new Promise((resolve, reject) => {
    const attempt = (left: number) => {
      const s = createConnection({ port, host: "127.0.0.1" })
      s.once("connect", () => {
        s.end()
        resolve()
      })
      s.once("error", () => (left > 0 ? setTimeout(() => attempt(left - 1), 50) : reject(new CliError(`The inspector bridge did not listen on port ${port}.`))))
    }
    attempt(tries)
  })

/** Starts the bridge on `port` (no browser opened) and an inspector client sending to it. */
export const startDemoInspector = async (port: number): Promise<DemoInspector> => {
  let server: typeof import("@statelyai/inspect/server")
  let client: typeof import("@statelyai/inspect")
  try {
    ;[server, client] = await Promise.all([import("@statelyai/inspect/server"), import("@statelyai/inspect")])
  } catch {
    throw new CliError("--inspect needs @statelyai/inspect: npm install --save-dev @statelyai/inspect")
  }
  const bridge = server.createInspectorServer({ port, autoOpen: false })
  await listening(port)
  const inspector = client.createWebSocketInspector({ url: `ws://127.0.0.1:${port}` })
  return {
    url: `http://localhost:${port}`,
    inspect: inspector.inspect as unknown as InspectFn,
    stop: () => {
      inspector.stop()
      bridge.stop()
    },
  }
}
