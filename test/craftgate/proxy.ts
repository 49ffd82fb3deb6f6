/**
 * A forwarding HTTP proxy in front of the Craftgate sandbox, for faults the sandbox's own fault
 * control does not have: a lookup answering 404 (a misrouted or unknown path, as a gateway answers),
 * a 5xx on every call (an outage), a hang. Requests go through unchanged (the Host header too, so the
 * client's signature over the URL it called still verifies at the sandbox).
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"

/** A fault rule: the next `count` matching calls (or all, without count) get `answer`. */
export interface ProxyRule {
  readonly method?: string
  /** A path prefix (without query) the rule applies to; all paths when absent. */
  readonly path?: string
  readonly answer: 404 | 500 | 503 | "hang"
  count?: number
}

/** A running proxy. */
export interface CraftgateProxy {
  readonly url: string
  readonly rules: ProxyRule[]
  /** Every call that reached the proxy: method, path with query, and what it got. */
  readonly calls: { method: string; path: string; answer: number | "hang" | "forwarded" }[]
  /** Adds a rule. */
  fail(rule: ProxyRule): void
  /** Removes every rule. */
  heal(): void
  close(): Promise<void>
}

/** Starts a proxy to `target` (the sandbox URL). */
export const startProxy = async (target: string): Promise<CraftgateProxy> => {
  const to = new URL(target)
  const rules: ProxyRule[] = []
  const calls: CraftgateProxy["calls"] = []
  const hanging = new Set<ServerResponse>()
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => {
      const path = req.url ?? "/"
      const bare = path.split("?")[0]!
      const rule = rules.find((r) => (r.count === undefined || r.count > 0) && (!r.method || r.method === req.method) && (!r.path || bare.startsWith(r.path)))
      if (rule) {
        if (rule.count !== undefined) rule.count -= 1
        calls.push({ method: req.method!, path, answer: rule.answer })
        if (rule.answer === "hang") {
          hanging.add(res)
          res.on("close", () => hanging.delete(res))
          return
        }
        const body = rule.answer === 404 ? { errors: { errorCode: "404", errorDescription: "Not Found" } } : { error: "gateway" }
        res.writeHead(rule.answer, { "content-type": "application/json" }).end(JSON.stringify(body))
        return
      }
      calls.push({ method: req.method!, path, answer: "forwarded" })
      const out = request({ host: to.hostname, port: to.port, method: req.method, path, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers)
        up.pipe(res)
      })
      // The sandbox dropped the connection (drop_response): so does the proxy.
      out.on("error", () => res.destroy())
      out.end(Buffer.concat(chunks))
    })
  })
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    rules,
    calls,
    fail: (rule) => void rules.push(rule),
    heal: () => void (rules.length = 0),
    close: async () => {
      for (const r of hanging) r.destroy()
      server.closeAllConnections()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
}
