/**
 * The console's HTML, rendered on the server from views the engine already masked. Every value goes
 * through `esc`; nothing here reads a snapshot or a store row. Pages work without the script (forms
 * post, links navigate); the script adds local times, diagrams and live updates.
 */
import { formatMoney } from "../money.js"
import type { ListPage } from "../store.js"
import type { PaymentView, RefundView, ReviewItem } from "../types.js"
import type { MarkedDiagram } from "./diagrams.js"

/** Escapes text for HTML content and attribute values. */
export const esc = (v: unknown): string =>
  String(v ?? "").replace(/[&<>"'`]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "`": "&#96;" })[c]!)

/** One line of the journal timeline: the event, who or what caused it, and the state before → after. */
export interface TimelineEntry {
  readonly version: number
  readonly at: string
  readonly event: string
  /** What the event names (amounts, ids, outcomes). */
  readonly summary: string
  /** Who or what caused it: the host's command, the provider, a timer, a person. */
  readonly cause: string
  readonly before: string | null
  readonly after: string
  readonly refunds: readonly { readonly id: string; readonly kind: string; readonly from: string | null; readonly to: string }[]
  /** The event as the engine's history shows it (sensitive fields masked). */
  readonly detail: unknown
}

/** What every page's frame needs. */
export interface Frame {
  readonly base: string
  readonly title: string
  readonly nav?: "payments" | "review"
  readonly csrf?: string
  readonly by?: string
  /** Show the sign-out button (a cookie session). */
  readonly signOut?: boolean
  readonly assetVersion: string
}

/** A time for people: UTC text (the script shows the viewer's zone), UTC in the title. */
export const time = (iso: string | null | undefined): string => {
  if (!iso) return "—"
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return esc(iso)
  const utc = `${d.toISOString().slice(0, 19).replace("T", " ")} UTC`
  return `<time datetime="${esc(d.toISOString())}" title="${esc(utc)}">${esc(utc)}</time>`
}

const money = (minor: number, currency: string) => {
  try {
    return esc(formatMoney(minor, currency))
  } catch {
    return `${esc(minor)} ${esc(currency)} (minor units)`
  }
}

const badge = (status: string, text = status) => `<span class="badge b-${esc(status.replace(/[^a-z]/gi, ""))}">${esc(text)}</span>`

/** The page frame: skip link, navigation, main landmark, the console's script. */
export const layout = (f: Frame, body: string): string => `<!doctype html>
<html lang="en" data-base="${esc(f.base)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${f.csrf ? `<meta name="csrf-token" content="${esc(f.csrf)}">` : ""}
<title>${esc(f.title)} · paystate console</title>
<link rel="stylesheet" href="${esc(f.base)}/assets/console.css?v=${esc(f.assetVersion)}">
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <span class="brand">paystate console</span>
  ${
    f.nav !== undefined || f.csrf
      ? `<nav aria-label="Sections"><a href="${esc(f.base)}/payments"${f.nav === "payments" ? ' aria-current="page"' : ""}>Payments</a><a href="${esc(f.base)}/review"${f.nav === "review" ? ' aria-current="page"' : ""}>Review queue</a></nav>`
      : ""
  }
  ${f.by ? `<span class="who">Signed in as ${esc(f.by)}</span>` : ""}
  ${f.signOut && f.csrf ? `<form method="post" action="${esc(f.base)}/logout"><input type="hidden" name="_csrf" value="${esc(f.csrf)}"><button class="secondary" type="submit">Sign out</button></form>` : ""}
</header>
<main id="main" tabindex="-1">
${body}
</main>
<script src="${esc(f.base)}/assets/mermaid.min.js?v=${esc(f.assetVersion)}"></script>
<script src="${esc(f.base)}/assets/console.js?v=${esc(f.assetVersion)}"></script>
</body>
</html>`

/** The login form (token and a name kept in the journal with every action). */
export const loginPage = (f: Frame, message?: string): string =>
  layout(
    { ...f, title: "Sign in" },
    `<h1>Sign in</h1>
${message ? `<p class="error" role="alert">${esc(message)}</p>` : ""}
<form method="post" action="${esc(f.base)}/login" class="stack" style="max-width:28rem;display:grid;gap:.8rem">
  <label>Access token<input type="password" name="token" autocomplete="current-password" required></label>
  <label>Your name (kept in the journal with what you do)<input type="text" name="name" autocomplete="username" maxlength="100" required></label>
  <button type="submit">Sign in</button>
</form>`,
  )

/** An error page: what was refused and why, with a way back. */
export const errorPage = (f: Frame, heading: string, message: string, code?: string, back?: string): string =>
  layout(
    { ...f, title: heading },
    `<h1>${esc(heading)}</h1><p class="error" role="alert">${code ? `<strong>${esc(code)}</strong>: ` : ""}${esc(message)}</p>${back ? `<p><a href="${esc(back)}">Back</a></p>` : ""}`,
  )

/** The list's filters as the page's query string carries them. */
export interface ListFilters {
  readonly status?: string
  readonly provider?: string
  readonly currency?: string
  readonly order?: string
  readonly since?: string
  readonly until?: string
  readonly review?: boolean
  readonly perPage?: number
}

const STATUSES = ["pending", "authorized", "captured", "refunded", "cancelled", "expired", "failed"]

const filterQuery = (f: ListFilters, extra: Record<string, string> = {}): string => {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(f)) if (v !== undefined && v !== "" && v !== false) q.set(k, v === true ? "1" : String(v))
  for (const [k, v] of Object.entries(extra)) q.set(k, v)
  const s = q.toString()
  return s ? `?${s}` : ""
}

const needsPerson = (p: PaymentView) => p.refunds.some((r) => r.needsReview || r.unattributed)

/** The payments list: filters, one page newest first, keyset paging. */
export const listPage = (f: Frame, filters: ListFilters, providers: readonly string[], page: ListPage<PaymentView> | undefined, error?: { code: string; message: string }): string => {
  const sel = (name: string, label: string, options: readonly string[], value: string | undefined) =>
    `<label>${esc(label)}<select name="${name}"><option value="">any</option>${options.map((o) => `<option${o === value ? " selected" : ""}>${esc(o)}</option>`).join("")}</select></label>`
  const rows = (page?.data ?? [])
    .map(
      (p) => `<tr>
  <td><a href="${esc(f.base)}/payments/${encodeURIComponent(p.id)}" class="mono">${esc(p.id)}</a></td>
  <td>${esc(p.provider)}</td>
  <td>${badge(p.status)}${p.state !== p.status ? ` <span class="meta">${esc(p.state.split(".").slice(1).join("."))}</span>` : ""}${needsPerson(p) ? ` ${badge("review", "needs review")}` : ""}</td>
  <td class="num">${money(p.amount, p.currency)}</td>
  <td class="num">${money(p.capturedAmount, p.currency)}</td>
  <td class="num">${money(p.refundedAmount, p.currency)}</td>
  <td>${esc(p.externalOrderNum ?? "")}</td>
  <td>${time(p.createdAt)}</td>
</tr>`,
    )
    .join("\n")
  const total = page ? (page.totalIsEstimate ? `about ${page.total.toLocaleString("en")}` : page.total.toLocaleString("en")) : "0"
  return layout(
    { ...f, title: "Payments", nav: "payments" },
    `<h1>Payments</h1>
<form class="filters" method="get" action="${esc(f.base)}/payments" aria-label="Filter payments">
  ${sel("status", "Status", STATUSES, filters.status)}
  ${providers.length ? sel("provider", "Provider", providers, filters.provider) : `<label>Provider<input name="provider" value="${esc(filters.provider ?? "")}" size="10"></label>`}
  <label>Currency<input name="currency" value="${esc(filters.currency ?? "")}" size="5" maxlength="3" pattern="[A-Za-z]{3}" title="ISO 4217 code, e.g. JPY"></label>
  <label>Order number<input name="order" value="${esc(filters.order ?? "")}" size="14"></label>
  <label>Created from (UTC)<input type="datetime-local" name="since" value="${esc(filters.since ?? "")}" step="1"></label>
  <label>Created before (UTC)<input type="datetime-local" name="until" value="${esc(filters.until ?? "")}" step="1"></label>
  <label style="flex-direction:row;align-items:center;gap:.4rem"><input type="checkbox" name="review" value="1"${filters.review ? " checked" : ""}>Needs review</label>
  <button type="submit">Filter</button>
  <a href="${esc(f.base)}/payments">Clear</a>
</form>
${error ? `<p class="error" role="alert"><strong>${esc(error.code)}</strong>: ${esc(error.message)}</p>` : ""}
<p class="meta" id="list-summary">${total} payment${page?.total === 1 ? "" : "s"} match${page?.total === 1 ? "es" : ""}; newest first.</p>
<div class="table-wrap">
<table aria-describedby="list-summary">
<caption class="sr-only">Payments</caption>
<thead><tr><th scope="col">Payment</th><th scope="col">Provider</th><th scope="col">State</th><th scope="col" class="num">Amount</th><th scope="col" class="num">Captured</th><th scope="col" class="num">Refunded</th><th scope="col">Order</th><th scope="col">Created</th></tr></thead>
<tbody>
${rows || `<tr><td colspan="8">No payments match these filters.</td></tr>`}
</tbody>
</table>
</div>
<nav class="pager" aria-label="Pages">
  ${filterQuery(filters) || (page?.nextCursor ?? null) ? `<a href="${esc(f.base)}/payments${esc(filterQuery(filters))}">First page</a>` : ""}
  ${page?.nextCursor ? `<a rel="next" href="${esc(f.base)}/payments${esc(filterQuery(filters, { after: page.nextCursor }))}">Next page →</a>` : `<span class="meta">Last page.</span>`}
</nav>`,
  )
}

const refundRow = (r: RefundView, currency: string) => `<tr id="refund-${esc(r.id)}">
  <td class="mono">${esc(r.id)}</td>
  <td>${esc(r.kind)}${r.details && typeof (r.details as Record<string, unknown>).refundType === "string" ? ` <span class="meta">${esc((r.details as Record<string, unknown>).refundType)}</span>` : ""}</td>
  <td class="num">${money(r.amount, currency)}</td>
  <td>${badge(r.status)}${r.needsReview ? ` ${badge("review", "needs review")}` : ""}${r.unattributed ? ` ${badge("review", "unattributed")}` : ""}${r.external ? ` <span class="meta">external</span>` : ""}</td>
  <td>${r.state ? `<code>${esc(r.state)}</code>` : "—"}</td>
  <td>${esc(r.providerStatus ?? "—")}${r.providerRef ? ` <span class="mono">${esc(r.providerRef)}</span>` : ""}</td>
  <td>${time(r.updatedAt)}${r.reviewReason ? `<div class="meta">${esc(r.reviewReason)}</div>` : ""}</td>
</tr>`

const diagramBlock = (id: string, heading: string, d: MarkedDiagram, path: readonly string[] | undefined) => `<section class="chart" aria-labelledby="${esc(id)}-h" data-machine="${esc(d.machine)}" data-current="${esc(d.current ?? "")}">
<h3 id="${esc(id)}-h">${esc(heading)} <span class="meta">${esc(d.machine)} v${esc(d.version)}</span></h3>
<p class="path">${
  path && path.length
    ? `Path: ${path.map((s, i) => (i === path.length - 1 && s.replace(/\./g, "_") === d.current ? `<span class="cur">${esc(s)}</span>` : esc(s))).join(" → ")}`
    : `Current state: <span class="cur">${esc(d.current ?? "unknown")}</span>`
}</p>
<div class="diagram" role="img" aria-label="${esc(`${heading}: statechart of ${d.machine}, current state ${d.current ?? "unknown"}`)}"><pre class="mermaid">${esc(d.mermaid)}</pre></div>
</section>`

/** Everything on a payment page that moves with the payment (swapped in live). */
export interface PaymentData {
  readonly view: PaymentView
  readonly timeline: readonly TimelineEntry[]
  readonly payment?: MarkedDiagram
  readonly refunds: readonly { readonly refund: RefundView; readonly diagram?: MarkedDiagram }[]
}

/** The part of a payment page that live updates replace: ledger, refunds, diagrams, journal. */
export const paymentLive = (d: PaymentData): string => {
  const p = d.view
  const m = (n: number) => money(n, p.currency)
  const external = p.refunds.filter((r) => r.external && !r.unattributed && r.status !== "failed").reduce((s, r) => s + r.amount, 0)
  const timeline = [...d.timeline]
    .reverse()
    .map(
      (t) => `<li>
  <div><strong>${esc(t.event)}</strong> <span class="meta">v${t.version} · ${time(t.at)}</span></div>
  <div>${esc(t.summary)}</div>
  <div class="meta">by ${esc(t.cause)} · ${t.before === null ? "" : `${esc(t.before)} → `}<strong>${esc(t.after)}</strong></div>
  ${t.refunds.length ? `<ul>${t.refunds.map((r) => `<li>${esc(r.kind)} <span class="mono">${esc(r.id)}</span>: ${r.from ? `${esc(r.from)} → ` : "new: "}${esc(r.to)}</li>`).join("")}</ul>` : ""}
  <details><summary>Event</summary><pre class="mono">${esc(JSON.stringify(t.detail, null, 2))}</pre></details>
</li>`,
    )
    .join("\n")
  return `<p class="meta">State ${badge(p.status)} <code>${esc(p.state)}</code> · version ${p.version} · updated ${time(p.updatedAt)}</p>
<h2 id="ledger-h">Ledger</h2>
<dl class="ledger" aria-labelledby="ledger-h">
  <div><dt>Amount</dt><dd data-k="amount">${m(p.amount)}</dd></div>
  <div><dt>Captured</dt><dd data-k="captured">${m(p.capturedAmount)}</dd></div>
  <div><dt>Settled (refunded)</dt><dd data-k="settled">${m(p.refundedAmount)}</dd></div>
  <div><dt>Reserved (in flight)</dt><dd data-k="reserved">${m(p.reservedAmount)}</dd></div>
  <div><dt>Refundable</dt><dd data-k="refundable">${m(p.refundableAmount)}</dd></div>
  <div><dt>External</dt><dd data-k="external">${m(external)}</dd></div>
  <div><dt>Unattributed</dt><dd data-k="unattributed">${m(p.unattributedAmount)}</dd></div>
</dl>
<h2 id="refunds-h">Refunds</h2>
${
  p.refunds.length
    ? `<div class="table-wrap"><table aria-labelledby="refunds-h"><thead><tr><th scope="col">Refund</th><th scope="col">Kind</th><th scope="col" class="num">Amount</th><th scope="col">Status</th><th scope="col">Machine state</th><th scope="col">Provider</th><th scope="col">Updated</th></tr></thead><tbody>${p.refunds.map((r) => refundRow(r, p.currency)).join("")}</tbody></table></div>`
    : "<p>No refunds.</p>"
}
<h2>Statecharts</h2>
<div class="charts">
${d.payment ? diagramBlock("chart-payment", "Payment", d.payment, undefined) : `<p class="meta">No machine known for provider ${esc(p.provider)} (pass the engine's providers to the console).</p>`}
${d.refunds
  .filter((r) => r.diagram)
  .map((r) => diagramBlock(`chart-${r.refund.id}`, `Refund ${r.refund.id}`, r.diagram!, r.refund.path))
  .join("\n")}
</div>
<h2 id="journal-h">Journal</h2>
<ol class="timeline" aria-labelledby="journal-h" reversed>
${timeline}
</ol>`
}

/** The live fragment as the script fetches it: one element carrying its version. */
export const paymentFragment = (d: PaymentData): string => `<div data-version="${d.view.version}">${paymentLive(d)}</div>`

/** A payment's page: heading, actions, then the live part. */
export const paymentPage = (f: Frame, d: PaymentData, notice?: string): string => {
  const p = d.view
  const path = `${f.base}/payments/${encodeURIComponent(p.id)}`
  return layout(
    { ...f, title: `Payment ${p.id}`, nav: "payments" },
    `<p><a href="${esc(f.base)}/payments">← Payments</a></p>
<h1>Payment <span class="mono">${esc(p.id)}</span></h1>
${notice ? `<p class="notice" role="status">${esc(notice)}</p>` : ""}
<p>${esc(p.provider)}${p.providerRef ? ` <span class="mono">${esc(p.providerRef)}</span>` : ""} · ${money(p.amount, p.currency)}${p.method ? ` · ${esc(p.method)}` : ""}${p.externalOrderNum ? ` · order ${esc(p.externalOrderNum)}` : ""} · created ${time(p.createdAt)}</p>
${f.csrf ? `<form method="post" action="${esc(path)}/sync"><input type="hidden" name="_csrf" value="${esc(f.csrf)}"><button type="submit">Sync with ${esc(p.provider)}</button> <span class="meta">reads the payment at the provider and applies what it says</span></form>` : ""}
<p id="live-status" class="meta" role="status" aria-live="polite">Live: this page follows the payment as it moves.</p>
<div id="live" data-version="${p.version}" data-events="${esc(path)}/events" data-fragment="${esc(path)}/fragment">
${paymentLive(d)}
</div>`,
  )
}

/** The review queue: each item with why, and its actions. */
export const reviewPage = (f: Frame, items: readonly ReviewItem[], notice?: string): string => {
  const item = (i: ReviewItem) => {
    const pay = `${f.base}/payments/${encodeURIComponent(i.paymentId)}`
    const hidden = `<input type="hidden" name="_csrf" value="${esc(f.csrf ?? "")}"><input type="hidden" name="id" value="${esc(i.id)}">`
    const slug = i.id.replace(/[^A-Za-z0-9_-]/g, "-")
    return `<article class="review-item" aria-labelledby="ri-${esc(slug)}" data-item="${esc(i.id)}">
<h2 id="ri-${esc(slug)}" style="margin-top:0">${badge(i.kind === "unattributed" ? "review" : (i.status ?? "pending"), i.kind)} <span class="mono">${esc(i.id)}</span></h2>
<p>${esc(i.provider)} · payment <a href="${esc(pay)}" class="mono">${esc(i.paymentId)}</a>${i.amount !== undefined ? ` · ${money(i.amount, i.currency)}` : ""}${i.status ? ` · ${esc(i.status)}` : ""}${i.providerRef ? ` · provider <span class="mono">${esc(i.providerRef)}</span>` : ""} · since ${time(i.since)}</p>
<ul>${i.reasons.map((r) => `<li>${esc(r)}</li>`).join("")}</ul>
<div class="actions">
${
  i.kind !== "unattributed"
    ? `<form method="post" action="${esc(f.base)}/review/retry" aria-label="Retry ${esc(i.id)}">${hidden}<label>Note<input name="note" maxlength="2000"></label><button type="submit">Retry</button></form>`
    : ""
}
<form method="post" action="${esc(f.base)}/review/resolve" aria-label="Resolve ${esc(i.id)}">${hidden}
  <fieldset><legend>Outcome</legend>
    <label><input type="radio" name="outcome" value="succeeded" required> succeeded (paid back)</label>
    <label><input type="radio" name="outcome" value="failed"> failed (not paid)</label>
  </fieldset>
  <label>Note (why; kept in the journal)<input name="note" required maxlength="2000"></label>
  <button type="submit">Resolve</button>
</form>
<form method="post" action="${esc(pay)}/sync" aria-label="Sync payment ${esc(i.paymentId)}"><input type="hidden" name="_csrf" value="${esc(f.csrf ?? "")}"><input type="hidden" name="back" value="review"><button type="submit" class="secondary">Sync payment</button></form>
</div>
</article>`
  }
  return layout(
    { ...f, title: "Review queue", nav: "review" },
    `<h1>Review queue</h1>
${notice ? `<p class="notice" role="status">${esc(notice)}</p>` : ""}
<p class="meta">Refunds flagged for review, parked effects and provider refunds nobody has claimed. Every action is journaled with your name and note; one that would break a payment's refund ceiling is refused and changes nothing.</p>
${items.length ? items.map(item).join("\n") : "<p>Nothing needs a person.</p>"}`,
  )
}
