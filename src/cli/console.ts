/**
 * `paystate console`: the ops console on an existing store, in a process of its own. It runs an
 * engine that does nothing by itself (the app's engine does recovery and timers) and watches the
 * store for changes, so its pages follow payments the app moves. Binds 127.0.0.1 unless told
 * otherwise; the access token comes from `--token`, `PAYSTATE_CONSOLE_TOKEN`, or is made up and
 * printed once.
 */
import { randomBytes } from "node:crypto"
import { once } from "node:events"
import type { FlagSpecs, Parsed } from "./args.js"
import { CliError, intFlag } from "./args.js"
import { STORE_FLAGS } from "./flags.js"

/** Flags of `paystate console`. */
export const CONSOLE_FLAGS: FlagSpecs = {
  ...STORE_FLAGS,
  port: { type: "string", value: "N", describe: "port (default 4680)" },
  host: { type: "string", value: "ADDR", describe: "address to bind (default 127.0.0.1; anything else is reachable from the network)" },
  "base-path": { type: "string", value: "PATH", describe: 'serve under this path (e.g. "/ops")' },
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"])

/** Runs the console until SIGINT or SIGTERM; returns the exit code. */
export const consoleCommand = async (a: Parsed, env: NodeJS.ProcessEnv = process.env): Promise<number> => {
  const port = intFlag("port", a.flags.port) ?? 4680
  if (port > 65535) throw new CliError(`--port ${port} is not a port (1–65535).`)
  const host = a.flags.host ?? "127.0.0.1"
  const token = env.PAYSTATE_CONSOLE_TOKEN || randomBytes(24).toString("base64url")
  if (token.length < 16) throw new CliError("PAYSTATE_CONSOLE_TOKEN must be at least 16 characters.")
  const [{ createServer }, { createEngine }, { createConsole }, { cliProviders }, { chooseStore, describeStore, openExistingStore }] = await Promise.all([
    import("node:http"),
    import("../engine.js"),
    import("../console/index.js"),
    import("./config.js"),
    import("./stores.js"),
  ])
  const choice = chooseStore(a.flags, env, ["pglite", "postgres"])
  const providers = await cliProviders(a.flags.config, env)
  const store = await openExistingStore(choice)
  const engine = createEngine({ store, providers: providers.providers, recoverOnStart: false, backgroundIntervalMs: 0, onError: (e, where) => console.error(`! ${where}: ${e instanceof Error ? e.message : String(e)}`) })
  await engine.ready
  const handler = createConsole({ engine, providers: providers.providers, token, ...(a.flags["base-path"] ? { basePath: a.flags["base-path"] } : {}), onError: (e) => console.error(`! console: ${e instanceof Error ? e.message : String(e)}`) })
  const server = createServer((req, res) => void handler(req, res))
  server.listen(port, host)
  try {
    await once(server, "listening")
  } catch (e) {
    await engine.close()
    throw new CliError(`Cannot listen on ${host}:${port}: ${e instanceof Error ? e.message : String(e)}`)
  }
  const shown = host.includes(":") ? `[${host}]` : host
  console.log(`paystate console on http://${shown}:${port}${a.flags["base-path"] ?? ""}/ — ${describeStore(choice)}`)
  console.log(env.PAYSTATE_CONSOLE_TOKEN ? "Access token: PAYSTATE_CONSOLE_TOKEN." : `Access token (this run only; set PAYSTATE_CONSOLE_TOKEN to choose one): ${token}`)
  if (!LOOPBACK.has(host)) console.log(`Warning: ${host} is reachable from other machines; put the console behind HTTPS.`)
  if (!a.flags.config) console.log("Actions call providers configured from their environment variables; pass --config with your app's providers to act as the app does.")
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve)
    process.once("SIGTERM", resolve)
  })
  handler.close()
  server.closeAllConnections()
  await new Promise<void>((r) => server.close(() => r()))
  await engine.close()
  return 0
}
