// The audit page in a real browser (Debian's headless Chromium, driven by playwright-core).
//
// Plays the demo into a data directory, starts a dev node on it, then checks the page against
// the API: the stream's timeline (every entry, in order, with its pseudonym tag: the same
// reader the same tag and colour, different readers different ones), the distinct readers,
// the chain's latest blocks, a block, a transaction, the studies, clear messages for a bad
// stream id, an unknown transaction and an unknown page, a live update when a new block is
// committed (no reload), no horizontal scrolling at phone width, labelled inputs, keyboard
// focus. Fails on any console error or uncaught exception (except the 404 answers the
// negative checks ask for). Screenshots at desktop and phone widths go to --screenshots.
//
// Usage: node tests/browser/audit-page.mjs --binary PATH [--params DIR] [--screenshots DIR]
//        [--chromium /usr/bin/chromium]
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";

const { values: opt } = parseArgs({
  options: {
    binary: { type: "string" },
    params: { type: "string" },
    screenshots: { type: "string" },
    chromium: { type: "string", default: "/usr/bin/chromium" },
  },
});
if (!opt.binary) {
  console.error("usage: audit-page.mjs --binary PATH [--params DIR] [--screenshots DIR]");
  process.exit(2);
}
const paramsArgs = opt.params ? ["--params", opt.params] : [];
const work = fs.mkdtempSync(path.join(os.tmpdir(), "consentry-audit-page-"));
const data = path.join(work, "data");
let node = null;
let browser = null;
const failures = [];

function check(ok, what) {
  if (ok) console.log(`  ok   ${what}`);
  else {
    console.log(`  FAIL ${what}`);
    failures.push(what);
  }
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function cleanup() {
  if (browser) await browser.close().catch(() => {});
  if (node && node.exitCode === null) {
    node.kill("SIGTERM");
    await new Promise((r) => node.once("exit", r));
  }
  fs.rmSync(work, { recursive: true, force: true });
}

async function main() {
  console.log("== the demo's data (consentry demo --data)");
  const demo = spawnSync(opt.binary, ["demo", "--data", data, ...paramsArgs], { encoding: "utf8" });
  if (demo.status !== 0) throw new Error(`the demo failed:\n${demo.stdout}\n${demo.stderr}`);

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const log = fs.openSync(path.join(work, "node.log"), "w");
  node = spawn(opt.binary, ["node", "--dev", "--data", data, "--listen", `127.0.0.1:${port}`,
    "--block-ms", "100", ...paramsArgs], { stdio: ["ignore", log, log] });
  const api = async (p) => {
    const r = await fetch(base + p);
    if (!r.ok) throw new Error(`${p}: ${r.status}`);
    return r.json();
  };
  for (let i = 0; ; i++) {
    try { await api("/v1/status"); break; } catch (e) {
      if (i > 100 || node.exitCode !== null) {
        throw new Error(`the node did not start: ${fs.readFileSync(path.join(work, "node.log"), "utf8")}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  console.log(`== a dev node on the demo's data at ${base}`);

  // What the API says, to compare the page with.
  const status = await api("/v1/status");
  const streams = new Set();
  for (let k = 0; k <= status.height; k++) {
    for (const id of (await api(`/v1/blocks/${k}`)).tx_ids) {
      const t = await api(`/v1/transactions/${id}`);
      if (t.transaction.body.stream_id) streams.add(t.transaction.body.stream_id);
    }
  }
  let stream = null;
  let history = null;
  let opened = null;
  for (const s of streams) {
    const hist = await api(`/v1/streams/${s}/history`);
    if (!history || hist.entries.length > history.entries.length) [stream, history] = [s, hist];
    if (hist.entries.some((e) => e.kind === "opening")) opened = [s, hist];
  }
  check(opened !== null, "the demo has a stream whose escrowed read the inspector opened");
  const readers = new Set(history.entries.filter((e) => e.kind === "access").map((e) => e.pseudonym));
  check(readers.size >= 2, `the demo's busiest stream has ${readers.size} distinct readers (the test needs two)`);

  browser = await chromium.launch({
    executablePath: opt.chromium,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const consoleErrors = [];
  let expect404 = false;
  const watch = (page) => {
    page.on("console", (m) => {
      if (m.type() !== "error") return;
      if (expect404 && /status of 40[04]/.test(m.text())) return;
      consoleErrors.push(m.text());
    });
    page.on("pageerror", (e) => consoleErrors.push(`uncaught: ${e.message}`));
  };
  const ready = async (page, hash) => {
    await page.evaluate(() => { document.getElementById("main").dataset.ready = "false"; });
    await page.evaluate((h) => { location.hash = h; }, hash);
    await page.waitForSelector('main[data-ready="true"]', { timeout: 15000 });
  };
  const shots = opt.screenshots;
  if (shots) fs.mkdirSync(shots, { recursive: true });

  console.log("== desktop (1280 x 900)");
  const desk = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  watch(desk);
  await desk.goto(`${base}/`);
  await desk.waitForSelector('main[data-ready="true"]');
  check((await desk.title()).includes("Consentry"), "the page loads at / with its title");

  // The stream's timeline against the API.
  await ready(desk, `#/stream/${stream}`);
  const items = await desk.$$eval("#timeline li", (lis) => lis.map((li) => {
    const t = li.querySelector(".tag");
    return {
      kind: li.dataset.kind, tx: li.dataset.tx,
      pseudonym: t ? t.dataset.pseudonym : null, text: t ? t.textContent : null,
      colour: t ? getComputedStyle(t).borderLeftColor : null,
    };
  }));
  check(items.length === history.entries.length,
    `timeline has ${items.length} entries, the API ${history.entries.length}`);
  check(items.every((it, i) => it.kind === history.entries[i].kind && it.tx === history.entries[i].tx),
    "each entry's kind and transaction match the API's, in order");
  check(items.every((it, i) => (history.entries[i].pseudonym ?? null) === (it.pseudonym ? `0x${it.pseudonym}` : null)),
    "each entry's pseudonym is the API's (none for the patient's withdrawal)");
  const look = new Map();
  let consistent = true;
  for (const it of items.filter((x) => x.kind === "access")) {
    const seen = look.get(it.pseudonym);
    if (seen && (seen.text !== it.text || seen.colour !== it.colour)) consistent = false;
    look.set(it.pseudonym, it);
  }
  check(consistent, "the same reader is shown with the same tag and colour every time");
  const looks = [...look.values()];
  check(new Set(looks.map((x) => x.text)).size === looks.length && new Set(looks.map((x) => x.colour)).size === looks.length,
    `the ${looks.length} readers have different tags and colours`);
  check(await desk.textContent("#distinct-readers") === String(history.distinct_accessors),
    `distinct readers shown: ${history.distinct_accessors}, as the API says`);
  check((await desk.$$("#readers tbody tr")).length === readers.size, "the readers table has a row per reader");
  const purposes = await desk.$$eval("#timeline li", (lis) => lis.map((li) => li.textContent));
  check(history.entries.every((e, i) => !e.purpose || purposes[i].includes(`for ${e.purpose}`)),
    "each entry shows its purpose");
  const withdrawn = history.entries.some((e) => e.kind === "revoke");
  check(!withdrawn || (await desk.textContent("main")).includes("withdrawn"), "a withdrawn consent says so");
  if (shots) await desk.screenshot({ path: path.join(shots, "stream-desktop.png"), fullPage: true });

  // The escrow stream: its policy says escrow is required, the read carries an escrow and is
  // marked opened, and the opening names the inspector and the case.
  if (opened) {
    const [escrowStream, escrowHistory] = opened;
    await ready(desk, `#/stream/${escrowStream}`);
    const opening = escrowHistory.entries.find((e) => e.kind === "opening");
    const main = await desk.textContent("main");
    check(main.includes("Escrow") && main.includes("required"), "the escrow stream's policy says escrow is required");
    const openedItem = await desk.textContent(`#timeline li[data-tx="${opening.opens}"]`);
    check(openedItem.includes("escrowed") && openedItem.includes(`opened (${opening.case})`),
      "the opened read is marked escrowed and opened, with its case");
    const openingItem = await desk.textContent(`#timeline li[data-tx="${opening.tx}"]`);
    check(openingItem.includes(opening.inspector) && openingItem.includes(opening.case),
      "the opening names the inspector and the case");
    if (shots) await desk.screenshot({ path: path.join(shots, "escrow-desktop.png"), fullPage: true });
    await ready(desk, `#/stream/${stream}`);
  }

  // A transaction, reached by its link in the timeline.
  await desk.evaluate(() => { document.getElementById("main").dataset.ready = "false"; });
  await desk.click(`#timeline li[data-tx="${history.entries[1].tx}"] a[href^="#/tx/"]`);
  await desk.waitForSelector('main[data-ready="true"]');
  const txText = await desk.textContent("main");
  check(txText.includes("committed") && txText.includes(history.entries[1].tx.slice(0, 16)),
    "a timeline entry links to its transaction page (committed)");
  check(txText.includes(strip(history.entries[1].pseudonym).slice(0, 8)), "the transaction page shows the reader's tag");

  // The chain and a block.
  await ready(desk, "#/");
  const latest = (await api("/v1/status")).height;
  const rows = await desk.$$eval("#blocks tbody tr", (trs) => trs.map((tr) => tr.cells[0].textContent));
  check(rows.length === Math.min(20, latest + 1) && rows[0] === `#${latest}`,
    `the chain lists the latest ${rows.length} blocks, newest (${rows[0]}) first`);
  if (shots) await desk.screenshot({ path: path.join(shots, "chain-desktop.png"), fullPage: true });
  const shareHeight = history.entries[0].height;
  await ready(desk, `#/block/${shareHeight}`);
  const blk = await api(`/v1/blocks/${shareHeight}`);
  const blockTxs = await desk.$$eval("#block-txs tbody tr a", (as) => as.map((a) => a.title));
  check(blk.tx_ids.every((id) => blockTxs.includes(id)), `block ${shareHeight} lists its ${blk.tx_ids.length} transaction(s)`);

  // Studies.
  const studies = (await api("/v1/studies")).studies;
  await ready(desk, "#/studies");
  check((await desk.$$("#studies tbody tr")).length === studies.length, `the studies page lists ${studies.length} study`);

  // Clear messages, never a blank page.
  expect404 = true;
  await ready(desk, "#/stream/not-a-stream");
  check((await desk.textContent('[role="alert"]'))?.includes("64 lowercase hex"), "a bad stream id says what a stream id is");
  await ready(desk, `#/stream/${"0".repeat(64)}`);
  check((await desk.textContent('[role="alert"]'))?.includes("has no consent"), "an unknown stream says it has no consent");
  await ready(desk, `#/tx/${"0".repeat(64)}`);
  check(((await desk.textContent('[role="alert"]')) ?? "").length > 20, "an unknown transaction shows the API's message");
  await ready(desk, "#/no/such/page");
  check((await desk.textContent('[role="alert"]'))?.includes("not a page"), "an unknown page says so");
  expect404 = false;

  // Live update: a credential issued from outside the page makes a block; the chain view shows
  // it without a reload.
  await ready(desk, "#/");
  await desk.evaluate(() => { window.__noReload = true; });
  const idFile = path.join(work, "late.id");
  const id = spawnSync(opt.binary, ["identity", "new", "--out", idFile], { encoding: "utf8" });
  if (id.status !== 0) throw new Error(`identity new: ${id.stderr}`);
  const issued = spawnSync(opt.binary, ["issuer", "issue", "--key", path.join(data, "issuer.key"),
    "--id", id.stdout.trim().split(/\s+/).pop(), "--role", "hospital", "--level", "2",
    "--jurisdiction", "756", "--expiry-day", "30000", "--issuer-id", "1", "--node", base], { encoding: "utf8" });
  if (issued.status !== 0) throw new Error(`issuer issue: ${issued.stderr}`);
  const grown = (await api("/v1/status")).height;
  await desk.waitForFunction((h) => document.querySelector("#blocks tbody tr td")?.textContent === `#${h}`,
    grown, { timeout: 10000 }).then(() => true, () => false).then((ok) => check(ok,
    `a new block (${grown}) appears without a reload`));
  check(await desk.evaluate(() => window.__noReload === true), "the page was not reloaded");
  check((await desk.textContent("#live")).includes(`height ${grown}`), "the live line names the new height");

  // Accessibility basics: labelled inputs, a skip link, keyboard focus.
  const unlabelled = await desk.$$eval("input, select, textarea", (els) =>
    els.filter((e) => !(e.id && document.querySelector(`label[for="${e.id}"]`)) && !e.getAttribute("aria-label")).length);
  check(unlabelled === 0, "every input has a label");
  await desk.reload();
  await desk.waitForSelector('main[data-ready="true"]');
  await desk.keyboard.press("Tab");
  check(await desk.evaluate(() => document.activeElement?.classList.contains("skip")), "the first Tab reaches the skip link");

  console.log("== phone (390 x 844)");
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  watch(phone);
  await phone.goto(`${base}/#/stream/${stream}`);
  await phone.waitForSelector('main[data-ready="true"]');
  check((await phone.$$("#timeline li")).length === history.entries.length, "the timeline shows on a phone");
  check(await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
    "no horizontal scrolling at phone width");
  if (shots) await phone.screenshot({ path: path.join(shots, "stream-phone.png"), fullPage: true });

  check(consoleErrors.length === 0, `no console error${consoleErrors.length ? `: ${consoleErrors.join(" | ")}` : ""}`);
}

const strip = (s) => (s && s.startsWith("0x") ? s.slice(2) : s);

try {
  await main();
} catch (e) {
  failures.push(e.stack || String(e));
  console.log(`  FAIL ${e.stack || e}`);
} finally {
  await cleanup();
}
if (failures.length) {
  console.log(`audit page: ${failures.length} check(s) failed`);
  process.exit(1);
}
console.log("audit page: every check passed");
