/**
 * The durable runtime. Every command goes one way: validate (zod) → load the snapshot → compute the
 * next state with XState's pure transition → one store commit (snapshot, journal, outbox, timers) →
 * run the effects through the provider adapter with a stable idempotency key → feed the outcome back
 * as an event, committed the same way. Nothing here knows a provider by name.
 */
import { createHash, randomBytes } from "node:crypto"
import { Effect } from "effect"
import type { AnyStateMachine } from "xstate"
import type { MachineContext, PaymentEvent, PaymentInput } from "../machines/lifecycle/index.js"
import { systemClock, type Clock } from "./clock.js"
import { isPaystateError, paystateError } from "./errors.js"
import { createInspector, type InspectFn } from "./inspect.js"
import type { OutboxEffect, PaymentUpdate, ProviderAdapter, WebhookRequest } from "./provider.js"
import { createLogger, type LogFn } from "./log.js"
import { redactor, scrubText, type Redactor } from "./redact.js"
import { createReview } from "./review.js"
import { guardStore } from "./store-guard.js"
import { protect, startStep, toCommit } from "./step.js"
import { createRegistry, type MachineRegistry } from "./registry.js"
import { StoreConflict, type OutboxRow, type Store, type StoredPayment } from "./store.js"
import { createTelemetry } from "./telemetry.js"
import type { CreatePaymentCommand, HistoryEntry, PaymentView, PaystateEngine, Providers, RefundCommand, ReviewResolution, WebhookOutcome } from "./types.js"
import {
  assertStorable,
  cancelSchema,
  captureSchema,
  createCommonSchema,
  invalidInput,
  listSchema,
  historyPageSchema,
  parseOrThrow,
  paymentIdSchema,
  snapshotWebhookRequest,
  refundCommonSchema,
  toStorable,
  updateSchema,
} from "./validation.js"
import { lazyProperty } from "./lazy.js"
import { refundView, statePath, toView, toViewHead } from "./view.js"
import { crashAt, createEffectRunner } from "./effects.js"
import { createStepper, keyFor } from "./stepper.js"

/** Options of `createEngine`. */
export interface EngineOptions<P extends Providers = Providers> {
  readonly store: Store
  /** The providers by the names commands and webhook routes use; their input types type the commands. */
  readonly providers: P
  readonly clock?: Clock
  /** An XState inspector (e.g. `createWebSocketInspector().inspect`) or any inspection callback. */
  readonly inspect?: InspectFn | { next?: InspectFn }
  /** How long a runner owns an effect before another may take it over (ms). Default 30 s. */
  readonly leaseMs?: number
  /** First delay before an effect with an unknown outcome is reconciled again (ms); doubles. Default 1 s. */
  readonly retryBackoffMs?: number
  /** The longest delay between two attempts of an effect with an unknown outcome (ms). Default 5 min. */
  readonly maxBackoffMs?: number
  /**
   * How long an effect with an unknown outcome is retried before it is parked and its refund flagged
   * for review (ms), its amount still reserved. Default 24 h. Outages shorter than this park nothing.
   */
  readonly retryWindowMs?: number
  /** How long card data for a create is kept in memory for a retry in this process (ms). Default 10 min. */
  readonly secretTtlMs?: number
  /** Run due timers and recovery in the background every this many ms; 0 turns it off. Default 1000. */
  readonly backgroundIntervalMs?: number
  /** Reconcile what a crash left behind as soon as the engine starts. Default true. */
  readonly recoverOnStart?: boolean
  /** The largest webhook body accepted (bytes). Default 1 MiB. */
  readonly maxWebhookBytes?: number
  /** Structured log entries: ids, codes, states and amounts only, never payloads (see src/log.ts). */
  readonly log?: LogFn
  /**
   * Older versions of providers' payment machines that stored payments still use, by provider name
   * (see docs/versioning.md): a payment finishes on the version it started on. The adapter's
   * `machine` is the current version, which new payments start on.
   */
  readonly machines?: Readonly<Partial<Record<keyof P & string, readonly AnyStateMachine[]>>>
  /** Where background failures are reported. Default: console.warn. */
  readonly onError?: (error: unknown, where: string) => void
}

/** The engine, with its readiness and the store it runs on. */
export interface Engine<P extends Providers = Providers> extends PaystateEngine<P> {
  /** Resolves once the store is initialised and start-up recovery has run. */
  readonly ready: Promise<void>
  readonly store: Store
}


const hash = (...parts: string[]): string => createHash("sha256").update(parts.join("\u0000")).digest("base64url").slice(0, 22)
const newId = (prefix: string, key?: string, scope = ""): string => `${prefix}_${key ? hash(scope, key) : randomBytes(16).toString("base64url").slice(0, 22)}`

/** Creates the engine: a Promise facade over the store and the providers' machines and adapters. */
export const createEngine = <const P extends Providers>(options: EngineOptions<P>): Engine<P> => {
  const { providers } = options
  const store = guardStore(options.store)
  const clock = options.clock ?? systemClock
  const leaseMs = options.leaseMs ?? 30_000
  const retryBackoffMs = options.retryBackoffMs ?? 1000
  const maxBackoffMs = options.maxBackoffMs ?? 5 * 60_000
  const retryWindowMs = options.retryWindowMs ?? 24 * 60 * 60_000
  const secretTtlMs = options.secretTtlMs ?? 10 * 60_000
  const maxWebhookBytes = options.maxWebhookBytes ?? 1024 * 1024
  const telemetry = createTelemetry()
  const logger = createLogger(options.log, () => clock.now().toISOString())
  const reportError = options.onError ?? ((e: unknown, where: string) => console.warn(`[paystate] ${scrubText(where)}:`, scrubText(e instanceof Error ? e.message : String(e))))
  const onError = (e: unknown, where: string) => {
    logger.emit({ level: "error", event: "background.failed", message: `${where}: ${logger.fromError(e).message}`, ...(isPaystateError(e) ? { code: e.code } : {}) })
    reportError(e, where)
  }
  const redactors = new Map<string, Redactor>()
  /** The redaction of a provider's fields (see src/redact.ts); unknown providers get the defaults. */
  const redactorOf = (provider: string): Redactor => {
    let r = redactors.get(provider)
    if (!r) redactors.set(provider, (r = redactor(hasProvider(provider) ? providers[provider]!.sensitive : undefined)))
    return r
  }
  const inspector = createInspector(options.inspect, redactorOf)
  /** Card data for create effects, in this process's memory only, never in the store (see docs/security.md). */
  const secrets = new Map<string, { secret: NonNullable<OutboxEffect["secret"]>; until: number }>()
  const secretOf = (effectId: string) => {
    const s = secrets.get(effectId)
    if (s && s.until < clock.now().getTime()) secrets.delete(effectId)
    return secrets.get(effectId)?.secret
  }
  const locks = new Map<string, Promise<unknown>>()
  let closed = false
  let background: NodeJS.Timeout | undefined
  let backgroundRun: Promise<unknown> | undefined

  const now = () => clock.now().toISOString()
  /** A payment as the host sees it: masked fields masked (bank account numbers, holder names). */
  const view = (row: StoredPayment): PaymentView => {
    const r = redactorOf(row.provider)
    const out = r.redact(toViewHead(row), "view") as PaymentView
    // A refund's view is built and masked once per ledger entry (entries never change); each answer
    // gets its own copy of the top level, so a host may change what it was given. The list is made
    // when first read: a command's answer on a payment with hundreds of refunds is then O(1) for a
    // host that reads its status only, and the same plain data for one that reads the list.
    const refunds = (row.snapshot.context as unknown as MachineContext).refunds
    return lazyProperty(out, "refunds", () => refunds.map((x) => ({ ...r.redactOnce(refundView(x), "view") })))
  }
  const later = (ms: number) => new Date(clock.now().getTime() + ms).toISOString()

  /** Serialises work on one payment inside this process; across processes the version check decides. */
  const withLock = async <T>(paymentId: string, fn: () => Promise<T>): Promise<T> => {
    const prior = locks.get(paymentId) ?? Promise.resolve()
    const run = prior.then(fn, fn)
    const tail = run.catch(() => undefined)
    locks.set(paymentId, tail)
    try {
      return await run
    } finally {
      if (locks.get(paymentId) === tail) locks.delete(paymentId)
    }
  }

  // Own properties only: "__proto__" or "toString" is not a provider.
  const hasProvider = (provider: unknown): provider is string => typeof provider === "string" && Object.prototype.hasOwnProperty.call(providers, provider)
  const adapterOf = (provider: string): ProviderAdapter => {
    if (!hasProvider(provider)) {
      const name = provider as unknown
      throw paystateError("UNKNOWN_PROVIDER", `No provider ${typeof name === "string" ? `"${name.slice(0, 100)}"` : "of that type"} is configured; configured: ${Object.keys(providers).join(", ") || "none"}.`, {
        configured: Object.keys(providers),
      })
    }
    return providers[provider]!
  }

  const registries = new Map<string, MachineRegistry>()
  /** The machine versions of a provider: its adapter's current machine and the older ones kept in `machines`. */
  const registryFor = (provider: string): MachineRegistry => {
    let r = registries.get(provider)
    if (!r) {
      const adapter = adapterOf(provider)
      const older = options.machines?.[provider] ?? []
      registries.set(provider, (r = createRegistry(adapter.machine, older)))
    }
    return r
  }

  // Loads of one payment already in flight are shared: a burst of commands on one payment reads its
  // row once instead of queueing a hundred identical reads on the pool ahead of its commits.
  const loading = new Map<string, Promise<StoredPayment | undefined>>()
  const loadShared = (paymentId: string): Promise<StoredPayment | undefined> => {
    let p = loading.get(paymentId)
    if (!p) {
      p = store.load(paymentId).finally(() => loading.delete(paymentId))
      loading.set(paymentId, p)
    }
    return p
  }
  const load = async (paymentId: string): Promise<StoredPayment> => {
    const row = await loadShared(paymentId)
    if (!row) throw paystateError("PAYMENT_NOT_FOUND", `No payment "${paymentId}".`, { paymentId })
    return row
  }

  const { step, recent, toRows } = createStepper({ store, withLock, registryFor, redactorOf, load, later, leaseMs, logger, inspector })

  const { runAll, stamp } = createEffectRunner({
    store,
    load,
    adapterOf,
    step,
    now,
    later,
    retryBackoffMs,
    maxBackoffMs,
    retryWindowMs,
    secretOf,
    forgetSecret: (id) => secrets.delete(id),
    log: logger.emit,
    telemetry,
  })

  const initialized = store.init()
  initialized.catch(() => undefined)
  // Stored machine versions are checked once the store is up, before any command runs (checkVersions is below).
  const checked: Promise<void> = initialized.then(() => checkVersions())
  checked.catch(() => undefined)

  const guard = async <T>(fn: () => Promise<T>): Promise<T> => {
    if (closed) throw paystateError("ENGINE_CLOSED", "The engine is closed.")
    await checked
    return fn()
  }

  /**
   * A command on an existing payment: one step that reserves (the intent commit), the provider call
   * outside any lock, and the outcome commit; answers with the payment as the last commit saved it.
   */
  const command = (paymentId: string, event: PaymentEvent, loaded?: StoredPayment) =>
    guard(async () => {
      const { added, row } = await step(paymentId, event, { command: true, ...(loaded ? { row: loaded } : {}) })
      crashAt("after-outbox-write")
      return view((await runAll(added, false, row)) ?? row)
    })

  const create = (input: CreatePaymentCommand) =>
    guard(async () => {
      assertStorable(input, "payments.create input")
      const common = parseOrThrow(createCommonSchema, input, "payments.create input")
      const adapter = adapterOf(common.provider)
      const parsed = adapter.createSchema.safeParse(input)
      if (!parsed.success) throw invalidInput(`${common.provider} payment`, parsed.error)
      const pc = parsed.data
      const id = newId("pay", common.idempotencyKey, common.provider)
      const started = await withLock(id, async () => {
        const existing = await store.load(id)
        if (existing) return { existing, saved: existing, rows: [] as OutboxRow[] }
        const at = now()
        const machineInput: PaymentInput = {
          id,
          provider: common.provider,
          currency: common.currency,
          amount: pc.amount,
          method: pc.method ?? null,
          description: common.description ?? null,
          metadata: common.metadata ?? {},
          externalOrderNum: common.externalOrderNum ?? null,
          deadline: pc.deadline ?? null,
          createdAt: at,
          request: pc.request,
          details: pc.details ?? {},
        }
        const result = startStep(registryFor(common.provider), machineInput, undefined, redactorOf(common.provider).storeCopy)
        // The journal keeps the exact machine input, so replaying the journal rebuilds the payment.
        const event = { type: "CREATE", at, input: machineInput, machine: result.snapshot.machine, version: result.snapshot.version }
        const commit = protect(toCommit(undefined, result, event, { paymentId: id, provider: common.provider, idempotencyKey: keyFor(id), leaseUntil: later(leaseMs) }), redactorOf(common.provider))
        if (pc.secret) secrets.set(`${id}/create`, { secret: pc.secret, until: clock.now().getTime() + secretTtlMs })
        let saved: StoredPayment
        try {
          saved = await store.commit(commit)
        } catch (e) {
          secrets.delete(`${id}/create`)
          if (e instanceof StoreConflict) {
            const existing = await load(id)
            return { existing, saved: existing, rows: [] as OutboxRow[] }
          }
          throw e
        }
        inspector.start(saved, adapter.machine, result)
        return { existing: undefined, saved, rows: toRows(commit) }
      })
      if (started.existing) return view(started.existing)
      crashAt("after-outbox-write")
      return view((await runAll(started.rows, false, started.saved)) ?? started.saved)
    })

  const refundLike = (kind: "refund" | "refund_request") => async (input: RefundCommand) => {
    const what = `payments.${kind === "refund" ? "refund" : "refundRequest"} input`
    assertStorable(input, what)
    const common = parseOrThrow(refundCommonSchema, input, what)
    if (closed) throw paystateError("ENGINE_CLOSED", "The engine is closed.")
    await checked
    // Only the provider is needed here (it never changes): a row this process saved recently will do;
    // the step checks the version when it writes.
    const row = recent(common.paymentId) ?? (await load(common.paymentId))
    const adapter = adapterOf(row.provider)
    const schema = kind === "refund" ? adapter.refundSchema : adapter.refundRequestSchema
    if (!schema) throw paystateError("INVALID_TRANSITION", `${row.provider} has no refund requests.`, { paymentId: row.id })
    const { paymentId: _p, amount: _a, description: _d, idempotencyKey: _k, ...rest } = input
    const options = schema.safeParse(rest)
    if (!options.success) throw invalidInput(`${row.provider} ${kind} options`, options.error)
    const refundId = newId("rf", common.idempotencyKey, common.paymentId)
    return command(common.paymentId, {
      type: "REFUND",
      at: now(),
      refundId,
      kind,
      ...(common.amount !== undefined ? { amount: common.amount } : {}),
      description: common.description ?? null,
      options: options.data,
    }, row)
  }

  /** Applies provider-addressed updates (webhooks, sync); unknown payments are skipped. */
  const applyUpdates = async (provider: string, updates: readonly PaymentUpdate[], seen: readonly string[]): Promise<string[]> => {
    const touched: string[] = []
    let seenLeft = seen
    for (const u of updates) {
      const row = u.paymentId ? await store.load(u.paymentId) : u.providerRef ? await store.findByProviderRef(provider, u.providerRef) : undefined
      if (!row || row.provider !== provider) continue
      const added: OutboxRow[] = []
      let last: StoredPayment | undefined
      for (const e of stamp(u.events)) {
        const r = await step(row.id, e, { command: false, seen: seenLeft })
        if (r.result.changed) seenLeft = []
        added.push(...r.added)
        last = r.row
      }
      await runAll(added, false, last).catch((err) => onError(err, `effects after a ${provider} update of ${row.id}`))
      touched.push(row.id)
    }
    // A delivery that changed nothing is still remembered, so its duplicate is known as one.
    if (seenLeft.length) await store.markSeen(seenLeft)
    return touched
  }

  const withProvider = <T>(provider: string, f: () => T): T => {
    try {
      return f()
    } catch (e) {
      if (isPaystateError(e, "WEBHOOK_REJECTED")) throw paystateError("WEBHOOK_REJECTED", e.message, { provider, ...((e.details ?? {}) as object) })
      throw e
    }
  }

  const handleWebhook = (provider: string, request: { headers: Record<string, string | readonly string[] | undefined>; rawBody: string | Uint8Array }): Promise<WebhookOutcome> =>
    guard(async () => {
      const adapter = adapterOf(provider)
      // A plain copy (null-prototype headers, repeated headers kept as arrays, size-checked): a Proxy
      // or a throwing getter is refused here, typed, before any adapter reads it.
      request = withProvider(provider, () => snapshotWebhookRequest(request, maxWebhookBytes))
      if (request === null || typeof request !== "object" || request.headers === null || typeof request.headers !== "object" || Array.isArray(request.headers)) {
        throw paystateError("WEBHOOK_REJECTED", "Pass { headers, rawBody }: headers as the framework gives them (an object of names to strings).", { provider, reason: "bad_request" })
      }
      if (typeof request.rawBody !== "string" && !(request.rawBody instanceof Uint8Array)) {
        throw paystateError("WEBHOOK_REJECTED", "Pass the raw request body (string or bytes), not parsed JSON: signatures are computed over the exact bytes received.", { provider, reason: "not_raw" })
      }
      const size = typeof request.rawBody === "string" ? Buffer.byteLength(request.rawBody) : request.rawBody.byteLength
      if (size > maxWebhookBytes) throw paystateError("WEBHOOK_REJECTED", `The webhook body has ${size} bytes; at most ${maxWebhookBytes} are accepted.`, { provider, reason: "too_large", size })
      const verified = await Effect.runPromise(adapter.webhook(request)).catch((e: unknown) => {
        logger.emit({ level: "warn", event: "webhook.rejected", provider, ...logger.fromError(e) })
        if (isPaystateError(e, "WEBHOOK_REJECTED")) {
          const d = (e.details ?? {}) as Record<string, unknown>
          throw paystateError("WEBHOOK_REJECTED", e.message, { ...d, provider, reason: typeof d.reason === "string" ? d.reason : "rejected" })
        }
        if (isPaystateError(e)) throw e
        // Whatever a hostile delivery does to a parser, the host gets a typed refusal, never a crash.
        throw paystateError("WEBHOOK_REJECTED", `The ${provider} webhook could not be read.`, { provider, reason: "unreadable" })
      })
      const result = toStorable(verified)
      for (const k of result.dedupeKeys) {
        if (await store.hasSeen(`${provider}:${k}`)) {
          logger.emit({ level: "info", event: "webhook.duplicate", provider })
          return { status: "duplicate", paymentIds: [] }
        }
      }
      try {
        const ids = await applyUpdates(provider, result.updates, result.dedupeKeys.map((k) => `${provider}:${k}`))
        for (const paymentId of ids) logger.emit({ level: "info", event: "webhook.processed", provider, paymentId })
        if (!ids.length) logger.emit({ level: "info", event: "webhook.ignored", provider })
        return { status: ids.length ? "processed" : "ignored", paymentIds: ids }
      } catch (e) {
        if (e instanceof StoreConflict && e.kind === "duplicate") return { status: "duplicate", paymentIds: [] }
        throw e
      }
    })

  const runDueTimers = () =>
    guard(async () => {
      const t = clock.now().getTime()
      for (const [k, v] of secrets) if (v.until < t) secrets.delete(k)
      const due = await store.dueTimers(now(), 100)
      for (const t of due) {
        const fired = await step(t.paymentId, { type: "TIMER", at: now(), timerId: t.timerId, name: t.name, data: t.data as never }, { command: false, timerFired: t.timerId }).catch(async (e) => {
          if (isPaystateError(e, "PAYMENT_NOT_FOUND")) return undefined
          // One timer that cannot be applied must not hold back the others due with it; a store that
          // is down stops the run (nothing else could be written either).
          if (isPaystateError(e, "STORE_UNAVAILABLE") || isPaystateError(e, "ENGINE_CLOSED")) throw e
          onError(e, `timer ${t.timerId} of ${t.paymentId}`)
          return undefined
        })
        if (fired) await runAll(fired.added, false, fired.row).catch((err) => onError(err, `timer ${t.timerId} of ${t.paymentId}`))
      }
      return due.length
    })

  const recover = () =>
    guard(async () => {
      const rows = await store.claimOutbox(now(), leaseMs, 100)
      for (const row of rows) {
        telemetry.outboxLag(clock.now().getTime() - Date.parse(row.createdAt), { "paystate.provider": row.provider, "paystate.op": row.op })
        await runAll([row], true).catch((err) => onError(err, `recovery of ${row.id}`))
      }
      return rows.length
    })

  /** A span and a command count around each public operation; attributes are ids only. */
  const traced = <A extends unknown[], R>(name: string, fn: (...args: A) => Promise<R>) => async (...args: A): Promise<R> => {
    const attributes: Record<string, string> = {}
    try {
      const first = args[0] as { provider?: unknown; paymentId?: unknown } | string | undefined
      if (typeof first === "string") attributes[name.startsWith("webhooks") ? "paystate.provider" : "paystate.payment.id"] = first.slice(0, 200)
      else if (first && typeof first === "object") {
        if (typeof first.provider === "string") attributes["paystate.provider"] = first.provider.slice(0, 100)
        if (typeof first.paymentId === "string") attributes["paystate.payment.id"] = first.paymentId.slice(0, 200)
      }
    } catch {
      // A hostile argument (a throwing getter, a Proxy) gets no attributes; the command refuses it, typed.
    }
    return telemetry.span(`paystate.${name}`, attributes, () => fn(...args), name)
  }
  const instrument = <T extends Record<string, (...args: any[]) => Promise<any>>>(prefix: string, ops: T): T =>
    Object.fromEntries(Object.entries(ops).map(([k, f]) => [k, traced(`${prefix}.${k}`, f)])) as T

  const engine: Engine = {
    get ready() {
      return ready
    },
    store,
    payments: instrument("payments", {
      create,
      get: (paymentId) => guard(async () => view(await load(parseOrThrow(paymentIdSchema, paymentId, "payment id")))),
      list: (query) =>
        guard(async () => {
          assertStorable(query, "payments.list query")
          const q = parseOrThrow(listSchema, query, "payments.list query") ?? {}
          const page = await store.list(q)
          return { ...page, data: page.data.map(view) }
        }),
      update: async (input) => {
        assertStorable(input, "payments.update input")
        const u = parseOrThrow(updateSchema, input, "payments.update input")
        return command(u.paymentId, {
          type: "UPDATE",
          at: now(),
          opId: newId("upd", u.idempotencyKey, u.paymentId),
          ...(u.description !== undefined ? { description: u.description } : {}),
          ...(u.metadata ? { metadata: u.metadata } : {}),
        })
      },
      capture: async (input) => {
        assertStorable(input, "payments.capture input")
        const c = parseOrThrow(captureSchema, input, "payments.capture input")
        return command(c.paymentId, { type: "CAPTURE", at: now(), opId: newId("cap", c.idempotencyKey, c.paymentId), ...(c.amount !== undefined ? { amount: c.amount } : {}) })
      },
      cancel: async (input) => {
        assertStorable(input, "payments.cancel input")
        const c = parseOrThrow(cancelSchema, input, "payments.cancel input")
        return command(c.paymentId, { type: "CANCEL", at: now(), opId: newId("cxl", c.idempotencyKey, c.paymentId) })
      },
      refund: refundLike("refund"),
      refundRequest: refundLike("refund_request"),
      sync: (paymentId) =>
        guard(async () => {
          const row = await load(parseOrThrow(paymentIdSchema, paymentId, "payment id"))
          const adapter = adapterOf(row.provider)
          if (!adapter.fetch) return view(row)
          const events = await Effect.runPromise(adapter.fetch(row.snapshot.context as unknown as MachineContext))
          await applyUpdates(row.provider, [{ paymentId, events }], [])
          return view(await load(paymentId))
        }),
      history: (paymentId, page) =>
        guard(async () => {
          const row = await load(parseOrThrow(paymentIdSchema, paymentId, "payment id"))
          const p = parseOrThrow(historyPageSchema, page, "payments.history page")
          const r = redactorOf(row.provider)
          return (await store.journal(row.id, p)).map((j): HistoryEntry => ({ version: j.version, at: j.at, event: r.redact(j.event as HistoryEntry["event"], "view"), status: j.status }))
        }),
    } satisfies Engine["payments"]),
    webhooks: instrument("webhooks", { handle: handleWebhook }),
    review: instrument("review", {
      list: () =>
        guard(async () => {
          const items = await review.list()
          telemetry.reviewItems(items.length)
          return items
        }),
      retry: (id: string, opts?: { note?: string; by?: string }) => guard(() => review.retry(id, opts)),
      resolve: (id: string, resolution: ReviewResolution) => guard(() => review.resolve(id, resolution)),
    }),
    runDueTimers,
    recover,
    close: async () => {
      if (closed) return
      closed = true
      if (background) clearInterval(background)
      await backgroundRun
      await Promise.allSettled([...locks.values()])
      inspector.stop()
      await store.close()
    },
  }

  const review = createReview({ store, now, leaseMs, load, step, runAll, view, onError })

  /** Refuses to start when a stored payment or refund names a machine version no longer registered. */
  const checkVersions = async () => {
    if (!store.machineVersions) return
    const missing = (await store.machineVersions()).filter((v) => hasProvider(v.provider) && !registryFor(v.provider).has(v))
    if (missing.length) {
      const names = missing.map((v) => `${v.provider}: ${v.machine}@${v.version}`).join(", ")
      throw paystateError("MACHINE_VERSION_MISSING", `Stored payments still use machine versions this engine does not register (${names}). Keep them in the \`machines\` option until those payments finish; see docs/versioning.md.`, { missing })
    }
  }

  const ready = checked.then(async () => {
    if (options.recoverOnStart ?? true) await recover().catch((e) => onError(e, "start-up recovery"))
    const interval = options.backgroundIntervalMs ?? 1000
    if (interval > 0 && !closed) {
      background = setInterval(() => {
        // One background run at a time; close() waits for the one under way.
        if (closed || backgroundRun) return
        backgroundRun = runDueTimers()
          .then(() => recover())
          .catch((e) => onError(e, "background run"))
          .finally(() => {
            backgroundRun = undefined
          })
      }, interval)
      background.unref()
    }
  })
  ready.catch(() => undefined)

  return engine
}
