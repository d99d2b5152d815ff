// Consentry audit page: a patient's or an auditor's view of the ledger, built only from the
// node's public /v1 API (so it shows nothing the API does not).
//
// Views are addressed by the URL fragment: #/ (chain), #/block/H, #/tx/ID, #/stream/ID,
// #/studies, #/study/ID. Live updates: the page polls GET /v1/status every POLL_MS and
// re-renders the current view when the height changes. Polling, not server-sent events:
// it is a plain GET any proxy passes, needs no connection held open per viewer, and costs
// the node one status read per viewer every two seconds.
//
// Every string from the ledger (purposes, names, ids) is put in the page as text
// (textContent), never as HTML: a transaction's purpose is written by whoever sent it.

const POLL_MS = 2000;
const BLOCKS_PER_PAGE = 20;
const TXS_PER_BLOCK_PAGE = 50;
const HISTORY_PAGE = 1000;
const HEX64 = /^[0-9a-f]{64}$/;

const main = document.getElementById("main");
const live = document.getElementById("live");
let lastHeight = null;
let rendering = null;

/** Creates an element: h("a", {href: "#/"}, "text", child, ...). Strings become text nodes. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "style") for (const [p, val] of Object.entries(v)) el.style.setProperty(p, val);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** An API error: the problem document's detail (RFC 9457), or what went wrong on the way. */
class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** GET a /v1 route as JSON; a non-2xx answer becomes an ApiError naming the problem. */
async function api(path) {
  let res;
  try {
    res = await fetch(path, { headers: { accept: "application/json" } });
  } catch (e) {
    throw new ApiError(0, `the node did not answer (${e.message})`);
  }
  if (!res.ok) {
    let detail = `${res.status} ${res.statusText}`;
    try {
      const p = await res.json();
      detail = p.detail || p.title || detail;
    } catch (_) { /* not a problem document */ }
    throw new ApiError(res.status, detail);
  }
  return res.json();
}

const strip0x = (s) => (s && s.startsWith("0x") ? s.slice(2) : s);
const short = (hex, n = 12) => (hex && hex.length > n ? `${hex.slice(0, n)}…` : hex || "");

/** A block time (ms since the epoch) in UTC, to the second. */
function when(ms) {
  if (ms === undefined || ms === null) return "";
  return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

/** A day number (days since 1970-01-01, as policies and tokens carry them) as a date. */
const day = (d) => new Date(d * 86400000).toISOString().slice(0, 10);

/**
 * Colours for the readers of one stream, given in order of first appearance: the Okabe-Ito
 * palette (told apart with the common colour-vision deficiencies), then hues from the
 * pseudonym itself. Within a page the same pseudonym always gets the same colour and letter.
 */
const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000"];
class Readers {
  constructor() { this.known = new Map(); }
  /** The reader's letter (A, B, …, Z, then A1, B1, …) and colour. */
  of(hex) {
    if (!this.known.has(hex)) {
      const n = this.known.size;
      const letter = String.fromCharCode(65 + (n % 26)) + (n >= 26 ? String(Math.floor(n / 26)) : "");
      this.known.set(hex, { letter, colour: n < PALETTE.length ? PALETTE[n] : hashColour(hex) });
    }
    return this.known.get(hex);
  }
}
const hashColour = (hex) => `hsl(${Math.round((parseInt(hex.slice(0, 4), 16) / 65536) * 360)} 70% 38%)`;

/**
 * A pseudonym's tag: its first 8 hex digits (the same pseudonym always reads the same), and
 * with `readers`, the reader's letter and colour on this page.
 */
function tag(pseudonym, label, readers) {
  const hex = strip0x(pseudonym);
  const r = readers ? readers.of(hex) : null;
  return h("span", {
    class: "tag", "data-pseudonym": hex, title: `${label || "pseudonym"} 0x${hex}`,
    style: { "--tag": r ? r.colour : hashColour(hex) },
  }, r ? h("strong", { class: "letter" }, r.letter) : null, hex.slice(0, 8));
}

const link = (href, text, attrs) => h("a", { href, ...attrs }, text);
const txLink = (id) => link(`#/tx/${id}`, short(id), { class: "mono", title: id });
const blockLink = (height) => link(`#/block/${height}`, `#${height}`);
const streamLink = (id) => link(`#/stream/${id}`, short(id, 16), { class: "mono", title: id });
const badge = (text, cls) => h("span", { class: `badge ${cls || text}` }, text);

function facts(rows) {
  return h("dl", { class: "facts" },
    rows.filter(Boolean).flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

function table(caption, headers, rows, attrs) {
  return h("div", { class: "table-wrap" },
    h("table", attrs || {},
      caption ? h("caption", { class: "note" }, caption) : null,
      h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))),
      h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c)))))));
}

function errorBox(what, e) {
  return h("div", { class: "error", role: "alert" },
    h("strong", {}, `${what}: `), e instanceof ApiError ? e.message : String(e));
}

// ---- views ----------------------------------------------------------------------------

const blockCache = new Map();
async function block(height) {
  if (!blockCache.has(height)) blockCache.set(height, await api(`/v1/blocks/${height}`));
  return blockCache.get(height);
}

async function chainView(params) {
  const status = await api("/v1/status");
  const top = Math.min(Number(params.get("before") ?? status.height + 1) - 1, status.height);
  const heights = [];
  for (let k = top; k >= 0 && heights.length < BLOCKS_PER_PAGE; k--) heights.push(k);
  const blocks = await Promise.all(heights.map(block));
  const rows = blocks.map((b) => [
    blockLink(b.header.height), when(b.header.time_ms), String(b.tx_ids.length),
    h("span", {}, b.signatures.map((s) => tag(s.validator, "validator"))),
  ]);
  const out = [
    h("h1", {}, "Chain"),
    facts([
      ["Chain", status.chain_id],
      ["Height", String(status.height)],
      ["Tip", h("span", { class: "mono" }, short(status.tip_hash, 16))],
      ["Credentials appended", String(status.registry_size)],
      ["Waiting for a block", String(status.pending)],
      status.cluster ? ["Leader", String(status.cluster.leader ?? "none")] : null,
    ]),
    h("h2", {}, "Latest blocks"),
    table(null, ["Height", "Time", "Transactions", "Signed by"], rows, { id: "blocks" }),
  ];
  const last = heights[heights.length - 1];
  if (last > 0) out.push(h("p", { class: "more" }, link(`#/?before=${last}`, "Older blocks")));
  return out;
}

/** One line saying what a transaction does, from its body. */
function summary(body) {
  switch (body.kind) {
    case "genesis": return ["genesis of ", body.chain_id ?? "the chain"];
    case "issue_credential": return [`issuer ${body.issuer_id} appends a credential`];
    case "revoke_credential": return [`issuer ${body.issuer_id} empties leaf ${body.index}`];
    case "study_request": return [`study for ${body.required_role}: `, body.purpose];
    case "consent": return ["share ", streamLink(body.stream_id), ` for ${body.policy.purpose}`];
    case "revoke_consent": return ["withdrawal of ", streamLink(body.stream_id)];
    case "access": return ["read of ", streamLink(body.stream_id), ` for ${body.purpose}`,
      body.claim.escrow ? " (escrowed)" : ""];
    case "opening": return ["opening of ", txLink(body.access), " for case ", body.case];
    default: return [body.kind];
  }
}

async function blockView(params, height) {
  if (!/^\d+$/.test(height)) throw new ApiError(400, `block height ${JSON.stringify(height)} is not a number`);
  const b = await block(Number(height));
  const shown = Math.min(b.tx_ids.length, Number(params.get("txs") ?? TXS_PER_BLOCK_PAGE));
  const txs = await Promise.all(b.tx_ids.slice(0, shown).map((id) => api(`/v1/transactions/${id}`)));
  const out = [
    h("h1", {}, `Block ${b.header.height}`),
    facts([
      ["Time", when(b.header.time_ms)],
      ["Previous", b.header.height > 0 ? blockLink(b.header.height - 1) : "none (genesis)"],
      ["Transactions root", h("span", { class: "mono" }, short(b.header.tx_root, 24))],
      ["Registry digest", h("span", { class: "mono" }, short(b.header.registry_root, 24))],
      ["Proposer", tag(b.header.proposer, "validator")],
      ["Signed by", h("span", {}, b.signatures.map((s) => tag(s.validator, "validator")))],
    ]),
    h("h2", {}, `Transactions (${b.tx_ids.length})`),
    table(null, ["Transaction", "Kind", "What"],
      txs.map((t) => [txLink(t.id), badge(t.transaction.body.kind, "kind"), h("span", {}, summary(t.transaction.body))]),
      { id: "block-txs" }),
  ];
  if (shown < b.tx_ids.length) {
    out.push(h("p", { class: "more" },
      link(`#/block/${height}?txs=${shown + TXS_PER_BLOCK_PAGE}`, `Show more (${b.tx_ids.length - shown} not shown)`)));
  }
  return out;
}

async function txView(_params, id) {
  if (!HEX64.test(id)) throw new ApiError(400, "a transaction id is 64 lowercase hex digits");
  const t = await api(`/v1/transactions/${id}`);
  const rows = [["Status", badge(t.status)]];
  if (t.height !== undefined) rows.push(["Block", blockLink(t.height)]);
  if (t.reason) rows.push(["Reason", t.reason]);
  const out = [h("h1", {}, "Transaction ", h("span", { class: "mono" }, short(id, 16)))];
  if (t.transaction) {
    const body = t.transaction.body;
    rows.push(["Kind", body.kind], ["What", h("span", {}, summary(body))]);
    if (body.claim) {
      rows.push(
        ["Pseudonym", tag(body.claim.pseudonym)],
        ["Proven role", `${body.claim.role}, level ≥ ${body.claim.min_level}`],
        ["Credential valid on", day(body.claim.today)],
        ["Issuer", String(body.claim.issuer_id)],
      );
    }
    if (body.study) rows.push(["Answers study", link(`#/study/${body.study}`, short(body.study, 16), { class: "mono" })]);
    if (body.kind === "study_request") rows.push(["Study page", link(`#/study/${id}`, "criteria and eligible consents")]);
  }
  out.push(facts(rows));
  if (t.transaction) {
    out.push(h("details", {}, h("summary", {}, "The transaction as the ledger holds it"),
      h("pre", {}, JSON.stringify(t.transaction, null, 2))));
  }
  return out;
}

function policyFacts(policy) {
  return [
    ["Readers", `${policy.roles.join(", ")}, level ≥ ${policy.min_level}`],
    ["Purpose", policy.purpose],
    ["Valid", `${day(policy.valid_from)} to ${day(policy.valid_until)}`],
    ["Escrow", policy.escrow
      ? "required: the inspector can identify a reader under due process, and each opening is shown here"
      : "not required: readers stay anonymous"],
  ];
}

async function streamView(_params, id) {
  if (!HEX64.test(id)) {
    throw new ApiError(400, "a stream id is 64 lowercase hex digits (the patient's CLI prints it when sharing)");
  }
  const s = await api(`/v1/streams/${id}`);
  const entries = [];
  let distinct = s.distinct_accessors;
  for (let from = 0; ; from += HISTORY_PAGE) {
    const page = await api(`/v1/streams/${id}/history?from=${from}&limit=${HISTORY_PAGE}`);
    entries.push(...page.entries);
    distinct = page.distinct_accessors;
    if (page.entries.length < HISTORY_PAGE) break;
  }
  const letters = new Readers();
  const readers = new Map();
  for (const e of entries) {
    if (e.kind !== "access") continue;
    const r = readers.get(e.pseudonym) || { count: 0, last: 0, purposes: new Set() };
    r.count += 1;
    r.last = Math.max(r.last, e.time_ms);
    if (e.purpose) r.purposes.add(e.purpose);
    readers.set(e.pseudonym, r);
  }
  // Which reads were opened by the inspector, and under which cases.
  const opened = new Map();
  for (const e of entries) {
    if (e.kind === "opening") opened.set(e.opens, [...(opened.get(e.opens) || []), e.case]);
  }
  const who = (e) => {
    if (e.kind === "opening") {
      return h("span", {}, `by ${e.inspector || "the inspector"}: read `, txLink(e.opens), ` opened for case ${e.case}`);
    }
    if (!e.pseudonym) return h("span", { class: "note" }, "by the patient");
    if (e.kind === "access") return tag(e.pseudonym, "reader", letters);
    return h("span", {}, "by the platform ", tag(e.pseudonym, "platform"));
  };
  const items = entries.map((e) => h("li", { "data-kind": e.kind, "data-tx": e.tx },
    h("div", { class: "line" },
      badge(e.kind),
      who(e),
      e.purpose ? h("span", {}, `for ${e.purpose}`) : null,
      e.escrow ? badge("escrowed", "escrow") : null,
      opened.has(e.tx) ? badge(`opened (${opened.get(e.tx).join(", ")})`, "opening") : null),
    h("div", { class: "when" }, when(e.time_ms), " · block ", blockLink(e.height), " · ", txLink(e.tx))));
  return [
    h("h1", {}, "Stream ", h("span", { class: "mono" }, short(id, 16))),
    facts([
      ["Consent now", s.shared ? badge("shared", "yes") : badge("withdrawn", "no")],
      ...policyFacts(s.policy),
      ["Latest consent", txLink(s.latest_consent)],
      ["Distinct readers", h("span", { id: "distinct-readers" }, String(distinct))],
      ["Entries", String(entries.length)],
    ]),
    h("h2", {}, "Readers"),
    readers.size === 0 ? h("p", { class: "note" }, "Nobody has read this stream.") :
      table(null, ["Reader", "Reads", "Purposes", "Last read"],
        [...readers].map(([p, r]) => [tag(p, "reader", letters), String(r.count), [...r.purposes].join(", "), when(r.last)]),
        { id: "readers" }),
    h("h2", {}, "Timeline"),
    h("ol", { class: "timeline", id: "timeline" }, items),
  ];
}

async function studiesView() {
  const { studies } = await api("/v1/studies");
  const all = await Promise.all(studies.map((id) => api(`/v1/studies/${id}`)));
  return [
    h("h1", {}, "Studies"),
    all.length === 0 ? h("p", { class: "note" }, "No study has been requested.") :
      table(null, ["Study", "Purpose", "Readers", "Criteria", "Eligible consents"],
        all.map((s) => [
          link(`#/study/${s.id}`, short(s.id), { class: "mono", title: s.id }), s.purpose,
          `${s.required_role}, level ≥ ${s.min_level}`,
          s.criteria.map((c) => `${c.attribute} in [${c.lo}, ${c.hi})`).join("; ") || "none",
          String(s.eligible_consents),
        ]), { id: "studies" }),
  ];
}

async function studyView(_params, id) {
  if (!HEX64.test(id)) throw new ApiError(400, "a study id is 64 lowercase hex digits");
  const s = await api(`/v1/studies/${id}`);
  return [
    h("h1", {}, "Study ", h("span", { class: "mono" }, short(id, 16))),
    facts([
      ["Purpose", s.purpose],
      ["Readers", `${s.required_role}, level ≥ ${s.min_level}`],
      ["Requested in", blockLink(s.height)],
      ["Eligible consents", String(s.eligible_consents)],
    ]),
    h("h2", {}, "Criteria"),
    h("p", { class: "note" }, "Each eligible consent carries commitments and one range proof: the ledger holds no value."),
    table(null, ["Attribute", "From (inclusive)", "To (exclusive)", "Proof bits"],
      s.criteria.map((c) => [c.attribute, String(c.lo), String(c.hi), String(c.bits)])),
    h("h2", {}, "Eligible streams"),
    s.streams.length === 0 ? h("p", { class: "note" }, "No consent has answered yet.") :
      table(null, ["Stream", "Consent", "Still shared"],
        s.streams.map((x) => [streamLink(x.stream_id), txLink(x.consent), x.current ? badge("yes") : badge("no")])),
  ];
}

const routes = [
  [/^\/?$/, chainView, "Chain"],
  [/^\/block\/([^/]*)$/, blockView, "Block"],
  [/^\/tx\/([^/]*)$/, txView, "Transaction"],
  [/^\/stream\/([^/]*)$/, streamView, "Stream"],
  [/^\/studies$/, studiesView, "Studies"],
  [/^\/study\/([^/]*)$/, studyView, "Study"],
];

/**
 * Renders the view the fragment names. After a navigation (`focus`), focus moves to the new
 * content so that a screen reader reads it; on the first load and on a live refresh, focus
 * stays where it is (a keyboard user's first Tab reaches the skip link).
 */
async function render(focus) {
  const [path, query] = decodeURIComponent(location.hash.slice(1) || "/").split("?");
  const params = new URLSearchParams(query || "");
  const route = routes.find(([re]) => re.test(path));
  const token = {};
  rendering = token;
  let nodes;
  if (!route) {
    nodes = [h("h1", {}, "Not found"), errorBox("No such page", `${path} is not a page of this site`),
      h("p", {}, link("#/", "Back to the chain"))];
    document.title = "Not found · Consentry audit";
  } else {
    const [re, view, title] = route;
    const arg = path.match(re)[1];
    try {
      nodes = await view(params, arg);
    } catch (e) {
      nodes = [h("h1", {}, title), errorBox(`${title} ${arg ? short(arg, 16) : ""}`.trim(), e)];
    }
    document.title = `${title} · Consentry audit`;
  }
  if (rendering !== token) return; // a newer navigation won
  const focusId = document.activeElement && main.contains(document.activeElement) ? document.activeElement.id : null;
  main.replaceChildren(...nodes);
  main.dataset.ready = "true";
  if (focus) main.focus({ preventScroll: true });
  else if (focusId && document.getElementById(focusId)) document.getElementById(focusId).focus();
}

async function poll() {
  try {
    const s = await api("/v1/status");
    const changed = lastHeight !== null && s.height !== lastHeight;
    live.textContent = `${s.chain_id} · height ${s.height} · updated ${when(Date.now())}`;
    if (changed) {
      lastHeight = s.height;
      await render(false);
      live.textContent = `New block: ${s.chain_id} · height ${s.height} · updated ${when(Date.now())}`;
    }
    lastHeight = s.height;
  } catch (e) {
    live.textContent = `The node is not answering (${e.message}); retrying`;
  }
  setTimeout(poll, POLL_MS);
}

document.getElementById("lookup").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const v = ev.target.elements.id.value.trim().toLowerCase().replace(/^0x/, "");
  if (/^\d+$/.test(v)) location.hash = `#/block/${v}`;
  else if (HEX64.test(v)) lookup(v);
  else location.hash = `#/stream/${encodeURIComponent(v)}`; // the stream view names what is wrong
});

/** A 64-hex id may be a stream or a transaction: ask the API which. */
async function lookup(id) {
  try {
    await api(`/v1/streams/${id}`);
    location.hash = `#/stream/${id}`;
  } catch (_) {
    location.hash = `#/tx/${id}`;
  }
}

window.addEventListener("hashchange", () => render(true));
render(false);
poll();
