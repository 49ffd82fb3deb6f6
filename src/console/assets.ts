/**
 * The console's static files: its stylesheet, its small browser script, and Mermaid's bundle, read
 * from the installed `mermaid` package (no CDN: the console works offline and on a closed network).
 * The script and the stylesheet are strings here so that the compiled package carries them.
 */
import { readFile } from "node:fs/promises"
import { createRequire } from "node:module"

/** The stylesheet: readable contrast, visible focus, one column on a narrow window. */
export const CONSOLE_CSS = `
:root{--fg:#16191d;--muted:#4a5058;--bg:#ffffff;--panel:#f5f7fa;--line:#c9ced6;--link:#0a4fc2;--focus:#b35900;--bad:#8f1d1d;--ok:#0f5223}
*{box-sizing:border-box}
html{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;color:var(--fg);background:var(--bg)}
body{margin:0}
a{color:var(--link)}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible,summary:focus-visible,[tabindex]:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.skip{position:absolute;left:-999px;top:0;background:#fff;padding:.5rem}
.skip:focus{left:.5rem;z-index:10}
header.top{display:flex;flex-wrap:wrap;gap:1rem;align-items:center;padding:.6rem 1rem;background:#1d2b3a;color:#fff}
header.top a{color:#fff}
header.top .brand{font-weight:700;margin-right:1rem}
header.top nav{display:flex;gap:1rem;flex-wrap:wrap}
header.top nav a[aria-current=page]{text-decoration-thickness:3px}
header.top form{margin-left:auto}
header.top .who{font-size:.9rem}
main{padding:1rem;max-width:1400px;margin:0 auto}
h1{font-size:1.5rem;margin:.2rem 0 1rem}
h2{font-size:1.2rem;margin:1.5rem 0 .5rem}
h3{font-size:1.05rem;margin:1rem 0 .4rem}
.filters{display:flex;flex-wrap:wrap;gap:.75rem;align-items:flex-end;background:var(--panel);padding:.75rem;border:1px solid var(--line);border-radius:6px}
.filters label,.stack label{display:flex;flex-direction:column;font-size:.9rem;gap:.2rem}
input,select,textarea,button{font:inherit;color:var(--fg)}
input,select,textarea{border:1px solid #6b7280;border-radius:4px;padding:.3rem .45rem;background:#fff;min-width:0}
button,.button{background:#1b4fa0;color:#fff;border:1px solid #123a78;border-radius:4px;padding:.35rem .8rem;cursor:pointer;text-decoration:none;display:inline-block}
button.secondary{background:#fff;color:#123a78}
.table-wrap{overflow-x:auto;border:1px solid var(--line);border-radius:6px;margin:.75rem 0}
table{border-collapse:collapse;width:100%;font-size:.95rem}
th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid var(--line);vertical-align:top}
th{background:var(--panel)}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em;word-break:break-all}
.badge{display:inline-block;padding:.05rem .5rem;border-radius:999px;font-size:.85rem;font-weight:600;border:1px solid currentColor;white-space:nowrap}
.b-captured,.b-succeeded{background:#dff3e4;color:#0f5223}
.b-refunded{background:#e3ebfb;color:#1c3d8c}
.b-pending,.b-requested{background:#fff2cc;color:#5c4000}
.b-authorized{background:#eee5fb;color:#45237a}
.b-cancelled,.b-expired,.b-reversed{background:#eeeeee;color:#333333}
.b-failed,.b-review{background:#fde4e4;color:#8f1d1d}
.notice{padding:.6rem .8rem;border-radius:6px;border:1px solid #1e5b2c;background:#e6f4ea;margin:.5rem 0}
.error{padding:.6rem .8rem;border-radius:6px;border:1px solid var(--bad);background:#fdecec;color:#5e0f0f;margin:.5rem 0}
.ledger{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:.5rem;margin:.5rem 0}
.ledger div{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:.5rem .7rem}
.ledger dt{font-size:.85rem;color:var(--muted)}
.ledger dd{margin:0;font-size:1.1rem;font-weight:600;font-variant-numeric:tabular-nums}
.grid2{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:1rem}
@media (max-width:900px){.grid2{grid-template-columns:minmax(0,1fr)}}
.charts{display:grid;gap:1rem}
.diagram{border:1px solid var(--line);border-radius:6px;padding:.5rem;overflow:auto;background:#fff}
.diagram svg{max-width:100%;height:auto}
pre.mermaid{white-space:pre;font-size:.75rem;color:var(--muted);margin:0}
.path{font-size:.95rem}
.path .cur{font-weight:700;background:#ffd166;padding:0 .3rem;border-radius:3px;color:#111}
ol.timeline{list-style:none;padding:0;margin:0;border-left:3px solid var(--line)}
ol.timeline li{margin:0 0 .8rem .9rem;position:relative}
ol.timeline li::before{content:"";position:absolute;left:-1.38rem;top:.45rem;width:.7rem;height:.7rem;border-radius:50%;background:#1b4fa0}
.meta{color:var(--muted);font-size:.9rem}
.review-item{border:1px solid var(--line);border-radius:6px;padding:.75rem;margin:.75rem 0;background:#fff}
.actions{display:flex;flex-wrap:wrap;gap:1rem;margin-top:.5rem}
.actions form{display:flex;flex-wrap:wrap;gap:.5rem;align-items:flex-end;background:var(--panel);padding:.5rem;border-radius:6px;border:1px solid var(--line)}
fieldset{border:1px solid var(--line);border-radius:4px;padding:.2rem .5rem}
.pager{display:flex;gap:1rem;align-items:center;flex-wrap:wrap}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
details>summary{cursor:pointer}
@media (max-width:520px){main{padding:.5rem}h1{font-size:1.25rem}.filters label{flex:1 1 100%}table{font-size:.85rem}}
`

/**
 * The browser script: local times (UTC stays in the title), Mermaid drawing, and live updates. The
 * page subscribes to its payment's event stream; on a new version it fetches the page fragment again
 * and swaps it in, so the payment moves without a reload.
 */
export const CONSOLE_JS = `(() => {
  "use strict";
  const fmt = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short" });
  const localize = (root) => {
    for (const t of root.querySelectorAll("time[datetime]")) {
      const d = new Date(t.getAttribute("datetime"));
      if (!Number.isNaN(d.getTime())) t.textContent = fmt.format(d);
    }
  };
  let drawn = 0;
  const draw = async (root) => {
    if (!window.mermaid) return;
    const nodes = [...root.querySelectorAll("pre.mermaid")].filter((n) => !n.hasAttribute("data-processed"));
    if (!nodes.length) return;
    try { await window.mermaid.run({ nodes }); } catch (e) { console.error("diagram", e); }
    drawn++;
    document.documentElement.dataset.diagrams = String(drawn);
  };
  if (window.mermaid) window.mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: "neutral", flowchart: { htmlLabels: false }, state: { useMaxWidth: true } });
  localize(document);
  draw(document);
  const live = document.getElementById("live");
  const status = document.getElementById("live-status");
  if (live && window.EventSource) {
    let shown = Number(live.dataset.version);
    let busy = Promise.resolve();
    const refresh = async (version) => {
      if (version <= shown) return;
      const r = await fetch(live.dataset.fragment, { headers: { accept: "text/html" }, credentials: "same-origin", cache: "no-store" });
      if (!r.ok) { if (status) status.textContent = "Live update failed (" + r.status + "); reload the page."; return; }
      const tpl = document.createElement("template");
      tpl.innerHTML = await r.text();
      const next = tpl.content.firstElementChild;
      const v = next ? Number(next.dataset.version) : NaN;
      if (!next || !(v > shown)) return;
      shown = v;
      live.replaceChildren(...next.childNodes);
      live.dataset.version = String(v);
      localize(live);
      await draw(live);
      if (status) status.textContent = "Updated live to version " + v + ".";
    };
    const es = new EventSource(live.dataset.events);
    es.addEventListener("version", (ev) => {
      let v;
      try { v = JSON.parse(ev.data).version; } catch { return; }
      busy = busy.then(() => refresh(v)).catch((e) => console.error("live", e));
    });
    es.addEventListener("gone", () => { es.close(); if (status) status.textContent = "This payment is no longer in the store."; });
    window.addEventListener("pagehide", () => es.close());
  }
})();
`

const require = createRequire(import.meta.url)
let mermaidBundle: Promise<Buffer> | undefined

/** Mermaid's browser bundle from the installed package, read once. */
export const mermaidScript = (): Promise<Buffer> => (mermaidBundle ??= readFile(require.resolve("mermaid/dist/mermaid.min.js")).catch((e: unknown) => {
  mermaidBundle = undefined
  throw e
}))

/** Mermaid's version, for the asset URL (a new version is a new URL, so browsers may cache each for long). */
export const mermaidVersion = (): string => {
  try {
    return String((require("mermaid/package.json") as { version?: string }).version ?? "0")
  } catch {
    return "0"
  }
}
