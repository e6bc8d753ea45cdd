// The Accord explorer. It reads the chain only through the node's public
// API: unary calls over Connect's HTTP/JSON protocol, and the Subscribe
// stream (Connect's enveloped JSON streaming) for the live home page.
// Everything is rendered with DOM calls and textContent, never innerHTML,
// because event attributes and memos are written by anyone.
"use strict";

const RPC = "/accord.api.v1.NodeService/";

// ApiError is a failed call; unavailable marks an RPC this node does not
// serve (an older node, or one without the feature).
class ApiError extends Error {
  constructor(message, code, unavailable) {
    super(message);
    this.code = code;
    this.unavailable = unavailable;
  }
}

async function call(method, req) {
  let res;
  try {
    res = await fetch(RPC + method, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Connect-Protocol-Version": "1" },
      body: JSON.stringify(req || {}),
    });
  } catch (e) {
    throw new ApiError("cannot reach the node: " + e.message, "unavailable", false);
  }
  const text = await res.text();
  let body = null;
  try { body = JSON.parse(text); } catch (e) { /* not JSON: a plain 404 or a proxy's page */ }
  if (res.ok && body) return body;
  const code = body && body.code ? body.code : "http_" + res.status;
  if (code === "unimplemented" || (res.status === 404 && !(body && body.code))) {
    throw new ApiError(method + " is not available on this node", "unimplemented", true);
  }
  throw new ApiError(body && body.message ? body.message : text || res.statusText, code, false);
}

// subscribe follows the Subscribe stream from fromHeight and calls onBlock
// with each SubscribeResponse until the stream ends or signal aborts.
async function subscribe(fromHeight, onBlock, signal) {
  const payload = new TextEncoder().encode(JSON.stringify({ from_height: String(fromHeight) }));
  const env = new Uint8Array(5 + payload.length);
  new DataView(env.buffer).setUint32(1, payload.length);
  env.set(payload, 5);
  const res = await fetch(RPC + "Subscribe", {
    method: "POST",
    headers: {
      "Content-Type": "application/connect+json",
      "Connect-Protocol-Version": "1",
      "Connect-Accept-Encoding": "identity",
    },
    body: env,
    signal,
  });
  if (!res.ok) throw new ApiError("Subscribe: HTTP " + res.status, "http_" + res.status, res.status === 404);
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = new Uint8Array(0);
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    const joined = new Uint8Array(buf.length + value.length);
    joined.set(buf);
    joined.set(value, buf.length);
    buf = joined;
    while (buf.length >= 5) {
      const flags = buf[0];
      const n = new DataView(buf.buffer, buf.byteOffset, 5).getUint32(1);
      if (buf.length < 5 + n) break;
      const msg = JSON.parse(dec.decode(buf.subarray(5, 5 + n)));
      buf = buf.slice(5 + n);
      if (flags & 1) throw new ApiError("the node sent a compressed message", "internal", false);
      if (flags & 2) {
        if (msg.error) throw new ApiError(msg.error.message || msg.error.code, msg.error.code, false);
        return;
      }
      onBlock(msg);
    }
  }
}

// ---- DOM helpers ----

function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const kid of kids.flat()) {
    if (kid === undefined || kid === null || kid === false) continue;
    el.append(kid instanceof Node ? kid : String(kid));
  }
  return el;
}

// put replaces el's children, skipping the empty ones (null, false).
function put(el, ...kids) {
  el.replaceChildren(...kids.flat().filter((k) => k !== null && k !== undefined && k !== false));
}

const link = (href, text, attrs) => h("a", Object.assign({ href }, attrs), text);
const short = (s) => (s && s.length > 20 ? s.slice(0, 10) + "…" + s.slice(-6) : s || "");
const blockLink = (height) => link("#/block/" + height, String(height), { "data-block": height });
const txLink = (id, full) => link("#/tx/" + id, full ? id : short(id), { class: "mono", title: id, "data-tx": id });
const accountLink = (addr, full) =>
  addr ? link("#/account/" + addr, full ? addr : short(addr), { class: "mono", title: addr, "data-account": addr }) : h("span", { class: "muted" }, "—");

function when(ms) {
  const n = Number(ms);
  if (!n) return "—";
  return new Date(n).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

function ago(ms) {
  const s = Math.max(0, Math.round((Date.now() - Number(ms)) / 1000));
  if (s < 60) return s + " s ago";
  if (s < 3600) return Math.floor(s / 60) + " min ago";
  if (s < 86400) return Math.floor(s / 3600) + " h ago";
  return Math.floor(s / 86400) + " d ago";
}

const STATUS = { TX_STATUS_OK: "ok", TX_STATUS_FAILED: "failed", TX_STATUS_INVALID: "invalid" };
const statusName = (s) => STATUS[s] || String(s || "").toLowerCase();
const badge = (text, kind) => h("span", { class: "badge " + (kind || text), "data-status": text }, text);

// kv renders a definition list; each value's dd carries data-field=name so
// that tests and users can find it.
function kv(rows) {
  const dl = h("dl", { class: "kv" });
  for (const [label, field, value, mono] of rows) {
    dl.append(h("dt", {}, label), h("dd", { "data-field": field, class: mono ? "mono" : "" }, value));
  }
  return dl;
}

function table(id, heads, rows, empty) {
  if (!rows.length) return h("p", { class: "note", id }, empty || "Nothing yet.");
  return h("table", { id },
    h("thead", {}, h("tr", {}, heads.map((t) => h("th", {}, t)))),
    h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((c) => (c instanceof Node && c.tagName === "TD" ? c : h("td", {}, c)))))));
}

const card = (title, ...body) => h("section", { class: "card" }, title ? h("h2", {}, title) : null, ...body);
const unavailable = (what) => h("div", { class: "unavailable", "data-unavailable": "1" }, what + " is not available on this node.");

// value renders an argument or attribute: addresses link to accounts and,
// where ids are transaction ids (the pay contract's payments and requests),
// ids link to transactions.
function value(v, ids) {
  const s = String(v);
  if (/^[0-9a-f]{40}$/.test(s)) return accountLink(s, true);
  if (ids && /^[0-9a-f]{64}$/.test(s)) return txLink(s, true);
  return h("span", { class: /^[0-9a-f]{16,}$/.test(s) ? "mono" : "" }, s);
}

function eventsTable(id, events) {
  return table(id, ["contract", "event", "attributes"], (events || []).map((e) => [
    e.contract, e.name,
    h("td", { class: "wrap" }, (e.attributes || []).map((a) => h("div", {}, h("span", { class: "muted" }, a.key + " = "), value(a.value)))),
  ]), "No events.");
}

// ---- routing ----

const view = document.getElementById("view");
let leave = null; // stops the current page's live work

function setPage(name, ...content) {
  put(view, ...content);
  view.dataset.page = name;
  view.dataset.state = "ready";
}

function showError(name, err) {
  put(view, 
    h("h1", {}, "Nothing to show"),
    h("div", { class: "error", id: "error" }, err.message || String(err)),
    h("p", {}, link("#/", "Back to the latest blocks")));
  view.dataset.page = name;
  view.dataset.state = "error";
}

const routes = [
  [/^$/, home],
  [/^block\/([0-9]+|[0-9a-fA-F]{64})$/, blockPage],
  [/^tx\/([0-9a-fA-F]{64})$/, txPage],
  [/^account\/([0-9a-fA-F]{40}(?:\?n=[0-9]+)?)$/, accountPage],
  [/^merchants$/, merchantsPage],
  [/^merchant\/(.+)$/, merchantPage],
  [/^proposals$/, proposalsPage],
  [/^proposal\/([0-9]+)$/, proposalPage],
  [/^search\/(.*)$/, searchPage],
];

let generation = 0; // a late answer for a page already left is dropped

async function route() {
  if (leave) { leave(); leave = null; }
  const path = decodeURIComponent(location.hash.replace(/^#\/?/, ""));
  const gen = ++generation;
  view.dataset.state = "loading";
  const stale = () => gen !== generation;
  for (const [re, page] of routes) {
    const m = path.match(re);
    if (!m) continue;
    try {
      await page(m[1], stale);
    } catch (e) {
      if (!stale()) showError(page.name, e);
    }
    window.scrollTo(0, 0);
    return;
  }
  showError("unknown", new Error("No page " + path + ". Search for a height, a transaction id or an address."));
}

// ---- search ----

document.getElementById("search").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const q = document.getElementById("q").value.trim();
  if (q) location.hash = "#/search/" + encodeURIComponent(q);
});

// resolve names the page a query stands for.
async function resolve(raw) {
  const q = raw.trim().replace(/^0x/i, "");
  if (/^[0-9]+$/.test(q)) return "#/block/" + BigInt(q).toString();
  const hex = q.toLowerCase();
  if (/^[0-9a-f]{40}$/.test(hex)) return "#/account/" + hex;
  if (/^[0-9a-f]{64}$/.test(hex)) {
    try {
      await call("GetTx", { tx_id: hex });
      return "#/tx/" + hex;
    } catch (e) {
      if (e.code !== "not_found") throw e;
    }
    try {
      await call("GetBlock", { hash: hex });
      return "#/block/" + hex;
    } catch (e) {
      if (e.code !== "not_found") throw e;
    }
    throw new Error("No committed transaction or block has id " + hex + ".");
  }
  try {
    await call("GetMerchant", { id: raw.trim() });
    return "#/merchant/" + encodeURIComponent(raw.trim());
  } catch (e) {
    if (e.code !== "not_found" && !e.unavailable && e.code !== "invalid_argument") throw e;
  }
  throw new Error("\"" + raw + "\" is not a height, a transaction id (64 hex digits), an address (40 hex digits) or a merchant id.");
}

async function searchPage(q, stale) {
  const target = await resolve(q);
  if (stale()) return;
  document.getElementById("q").value = "";
  location.replace(target);
}

// ---- home: status, live chart, latest blocks and transactions ----

const WINDOW = 60; // blocks on the chart

async function home(_, stale) {
  const st = await call("Status");
  if (stale()) return;
  const statsEl = h("div", { class: "stats", id: "stats" });
  const peersEl = h("div", {});
  const liveDot = h("span", { class: "live", id: "live" });
  const tpsCanvas = h("canvas", { class: "chart", id: "tps-chart", "data-points": "0" });
  const btCanvas = h("canvas", { class: "chart", id: "bt-chart", "data-points": "0" });
  const tpsNow = h("span", { id: "tps-now" }, "—");
  const blocksEl = h("div", {});
  const txsEl = h("div", {});
  setPage("home",
    statsEl,
    h("div", { class: "grid" },
      card(null, h("h2", {}, liveDot, "Committed TPS ", h("span", { class: "muted" }, "(now: "), tpsNow, h("span", { class: "muted" }, ")")), tpsCanvas,
        h("div", { class: "legend" }, "Transactions committed in the second up to each block, over the last " + WINDOW + " blocks; pushed by the node as blocks commit.")),
      card("Block times", btCanvas, h("div", { class: "legend" }, "Milliseconds since the previous block."))),
    h("div", { class: "grid" }, card("Latest blocks", blocksEl), card("Latest transactions", txsEl)),
    card("Network", peersEl));

  let status = st;
  const blocks = []; // SubscribeResponse headers, oldest first
  const txCache = new Map();
  let lastStatusAt = Date.now();
  let drawQueued = false;
  let txsBusy = false, txsAgain = false, txsAt = 0;

  function renderStatus() {
    const peers = status.peers || [];
    const connected = peers.filter((p) => p.connected).length;
    const stat = (k, id, v) => h("div", { class: "stat" }, h("div", { class: "k" }, k), h("div", { class: "v", id }, v));
    put(statsEl, 
      stat("Chain", "chain-id", status.chain_id),
      stat("Height", "height", blockLink(status.height)),
      stat("Consensus", "consensus", status.consensus + (status.leader ? " · leader " + status.leader : "")),
      stat("Peers", "peers", peers.length ? connected + " of " + peers.length + " connected" : "none (single node)"),
      stat("Pool", "pool", String(status.pool_size)),
      stat("Node", "node-id", status.node_id));
    document.getElementById("foot-chain").textContent = status.chain_id + " · node " + status.node_id;
    put(peersEl, 
      kv([["Node", "node", status.node_id, true], ["Hash", "hash", status.hash], ["Issuer", "issuer", accountLink(status.issuer, true), true],
        ["Term", "term", status.consensus === "raft" ? String(status.term) : "—"]]),
      peers.length ? h("div", { style: "margin-top:12px" }, table("peer-table", ["peer", "address", "connected", "height", "last error"],
        peers.map((p) => [p.node_id, h("td", { class: "mono" }, p.address), p.connected ? badge("yes", "ok") : badge("no", "bad"), String(p.height), h("td", { class: "wrap" }, p.last_error || "")]))) : null);
  }

  function renderBlocks() {
    const latest = blocks.slice(-10).reverse();
    put(blocksEl, table("blocks", ["height", "hash", "txs", "time"],
      latest.map((b) => [blockLink(b.height), h("td", { class: "mono", title: b.hash }, short(b.hash)), String(b.tx_count), h("td", { title: when(b.time) }, ago(b.time))]),
      "No blocks yet."));
  }

  function points() {
    const out = [];
    for (let i = 0; i < blocks.length; i++) {
      const t = Number(blocks[i].time);
      let txs = 0;
      for (let j = i; j >= 0 && t - Number(blocks[j].time) < 1000; j--) txs += Number(blocks[j].tx_count);
      const prev = i > 0 ? Number(blocks[i - 1].time) : null;
      out.push({ height: blocks[i].height, tps: txs, dt: prev === null || Number(blocks[i].height) !== Number(blocks[i - 1].height) + 1 ? null : t - prev });
    }
    return out;
  }

  function draw() {
    drawQueued = false;
    const pts = points();
    drawChart(tpsCanvas, pts.map((p) => p.tps), "bars", "#1f5fbf", pts);
    drawChart(btCanvas, pts.map((p) => p.dt), "line", "#d97706", pts);
    tpsNow.textContent = pts.length ? String(pts[pts.length - 1].tps) : "—";
    renderBlocks();
  }

  async function refreshTxs() {
    if (txsBusy) { txsAgain = true; return; }
    txsBusy = true;
    try {
      do {
        txsAgain = false;
        txsAt = Date.now();
        const rows = [];
        for (let i = blocks.length - 1; i >= 0 && rows.length < 10; i--) {
          if (Number(blocks[i].tx_count) === 0) continue;
          const b = await call("GetBlock", { height: String(blocks[i].height) });
          for (let k = b.tx_ids.length - 1; k >= 0 && rows.length < 10; k--) {
            rows.push({ id: b.tx_ids[k], height: b.header.height, status: statusName((b.receipts[k] || {}).status) });
          }
        }
        for (const r of rows) {
          if (!txCache.has(r.id)) txCache.set(r.id, (await call("GetTx", { tx_id: r.id })).tx);
        }
        if (stale()) return;
        put(txsEl, table("txs", ["transaction", "call", "from", "block", "status"],
          rows.map((r) => { const t = txCache.get(r.id); return [txLink(r.id), t.contract + "." + t.method, /^0+$/.test(t.sender) ? h("span", { class: "muted" }, "certificate") : accountLink(t.sender), blockLink(r.height), badge(r.status)]; }),
          "No transactions in the last " + WINDOW + " blocks."));
      } while (txsAgain && !stale());
    } catch (e) {
      if (!stale()) put(txsEl, h("div", { class: "error" }, e.message));
    } finally {
      txsBusy = false;
    }
  }

  function onBlock(msg) {
    const hd = msg.header;
    blocks.push(hd);
    if (blocks.length > WINDOW) blocks.splice(0, blocks.length - WINDOW);
    if (Number(hd.height) > Number(status.height)) {
      status.height = hd.height;
      status.last_block_hash = hd.hash;
    }
    if (!drawQueued) { drawQueued = true; requestAnimationFrame(() => { if (!stale()) { draw(); renderStatus(); } }); }
    if (Number(hd.tx_count) > 0 && Date.now() - txsAt > 1000) refreshTxs();
    else if (Number(hd.tx_count) > 0) setTimeout(() => { if (!stale() && Date.now() - txsAt >= 1000) refreshTxs(); }, 1100);
    // Peers and the pool change without blocks too, but a status read per
    // block would be polling by another name: at most one every 3 s.
    if (Date.now() - lastStatusAt > 3000) {
      lastStatusAt = Date.now();
      call("Status").then((s) => { if (!stale()) { status = s; renderStatus(); } }).catch(() => {});
    }
  }

  renderStatus();
  draw();
  put(txsEl, h("p", { class: "note" }, Number(st.height) === 0 ? "No transactions yet." : "Loading…"));
  const abort = new AbortController();
  // "3 s ago" ages without blocks too; redrawing it asks the node nothing.
  const ticker = setInterval(renderBlocks, 5000);
  leave = () => { abort.abort(); clearInterval(ticker); };
  let next = Math.max(1, Number(st.height) - WINDOW + 1);
  (async () => {
    let wait = 500;
    while (!abort.signal.aborted) {
      try {
        liveDot.classList.add("on");
        await subscribe(next, (msg) => { next = Number(msg.header.height) + 1; onBlock(msg); wait = 500; }, abort.signal);
      } catch (e) {
        if (abort.signal.aborted) return;
      }
      liveDot.classList.remove("on");
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(wait * 2, 10000);
    }
  })();
}

// drawChart draws values (null for none) as bars or a line, with the
// largest value and the first and last heights as labels.
function drawChart(canvas, values, kind, color, pts) {
  canvas.dataset.points = String(values.length);
  canvas.dataset.last = values.length ? String(values[values.length - 1] ?? "") : "";
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 400, hgt = canvas.clientHeight || 180;
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(hgt * dpr);
  const g = canvas.getContext("2d");
  g.scale(dpr, dpr);
  g.clearRect(0, 0, w, hgt);
  const left = 44, right = 8, top = 10, bottom = 22;
  const pw = w - left - right, ph = hgt - top - bottom;
  const nums = values.filter((v) => v !== null);
  const maxV = Math.max(1, ...nums);
  g.strokeStyle = "#e1e4e8";
  g.fillStyle = "#5d6670";
  g.font = "11px system-ui, sans-serif";
  g.textAlign = "right";
  for (const f of [0, 0.5, 1]) {
    const y = top + ph - f * ph;
    g.beginPath(); g.moveTo(left, y); g.lineTo(w - right, y); g.stroke();
    g.fillText(String(Math.round(maxV * f)), left - 6, y + 4);
  }
  if (!values.length) {
    g.textAlign = "center";
    g.fillText("waiting for blocks…", left + pw / 2, top + ph / 2);
    return;
  }
  g.textAlign = "left";
  g.fillText("#" + pts[0].height, left, hgt - 6);
  g.textAlign = "right";
  g.fillText("#" + pts[pts.length - 1].height, w - right, hgt - 6);
  const slot = pw / WINDOW;
  const x0 = left + pw - values.length * slot;
  g.fillStyle = color;
  g.strokeStyle = color;
  g.lineWidth = 2;
  if (kind === "bars") {
    values.forEach((v, i) => {
      if (v === null) return;
      const bh = (v / maxV) * ph;
      g.fillRect(x0 + i * slot + 1, top + ph - bh, Math.max(1, slot - 2), bh);
    });
    return;
  }
  g.beginPath();
  let pen = false;
  values.forEach((v, i) => {
    if (v === null) { pen = false; return; }
    const x = x0 + i * slot + slot / 2, y = top + ph - (v / maxV) * ph;
    if (pen) g.lineTo(x, y); else g.moveTo(x, y);
    pen = true;
  });
  g.stroke();
}

// ---- block ----

async function blockPage(key, stale) {
  const req = /^[0-9]+$/.test(key) ? { height: key } : { hash: key.toLowerCase() };
  const b = await call("GetBlock", req);
  if (stale()) return;
  const hd = b.header;
  const height = Number(hd.height);
  const ids = b.tx_ids || [];
  const shown = h("div", {});
  let limit = 100;
  const renderTxs = () => {
    put(shown, 
      table("block-txs", ["#", "transaction", "status", "events"],
        ids.slice(0, limit).map((id, i) => [String(i), txLink(id, true), badge(statusName((b.receipts[i] || {}).status)),
          ((b.receipts[i] || {}).events || []).map((e) => e.contract + "." + e.name).join(", ")]), "No transactions."),
      ids.length > limit ? h("div", { class: "pager" }, h("button", { class: "btn", onclick: () => { limit += 500; renderTxs(); } }, "Show more (" + (ids.length - limit) + " left)")) : null);
  };
  renderTxs();
  setPage("block",
    h("h1", {}, "Block ", h("span", { id: "block-height" }, String(height))),
    card(null, kv([
      ["Height", "height", String(height)],
      ["Hash", "hash", hd.hash, true],
      ["Time", "time", when(hd.time)],
      ["Transactions", "tx_count", String(hd.tx_count)],
      ["Previous", "prev_hash", height > 1 ? link("#/block/" + (height - 1), hd.prev_hash, { class: "mono" }) : hd.prev_hash, true],
      ["Proposer", "proposer", hd.proposer || "—", true],
      ["Chain", "chain_id", hd.chain_id],
      ["Tx root", "tx_root", hd.tx_root, true],
      ["Receipt root", "receipt_root", hd.receipt_root, true],
      ["Write-set hash", "write_set_hash", hd.write_set_hash, true],
      ["State hash", "state_hash", hd.state_hash, true],
    ]), h("div", { class: "pager" },
      height > 1 ? link("#/block/" + (height - 1), "← Block " + (height - 1), { id: "prev-block" }) : null,
      link("#/block/" + (height + 1), "Block " + (height + 1) + " →", { id: "next-block" }))),
    card("Transactions", shown));
}

// ---- transaction ----

async function txPage(id, stale) {
  const r = await call("GetTx", { tx_id: id.toLowerCase() });
  if (stale()) return;
  const t = r.tx, rc = r.receipt || {};
  let args = null;
  if (t.args_json) {
    try { args = JSON.parse(t.args_json); } catch (e) { args = null; }
  }
  const st = statusName(rc.status);
  const payState = st === "ok" && t.contract === "pay" ? await payCard(t, args || {}) : null;
  if (stale()) return;
  setPage("tx",
    h("h1", {}, "Transaction"),
    card(null, kv([
      ["Id", "tx_id", t.tx_id, true],
      ["Status", "status", [badge(st), rc.message ? h("span", { style: "margin-left:8px" }, rc.message) : null]],
      ["Block", "height", [blockLink(r.height), h("span", { class: "muted" }, " · index "), h("span", { "data-field": "index" }, String(r.index))]],
      ["Call", "call", h("span", { class: "mono" }, t.contract + "." + t.method)],
      ["From", "sender", /^0+$/.test(t.sender) ? h("span", { class: "muted" }, "not resolved: signed with a member certificate that the chain's configuration no longer resolves") : accountLink(t.sender, true), true],
      ["Nonce", "nonce", String(t.nonce)],
      ["Signature", "scheme", t.scheme],
      ["Expires", "expires_at", when(t.expires_at)],
      ["Chain", "chain_id", t.chain_id],
      ["Block hash", "block_hash", r.block_hash, true],
    ])),
    card("Contract call",
      kv([["Contract", "contract", t.contract], ["Method", "method", t.method]]),
      h("div", { style: "margin-top:12px" }, args && typeof args === "object"
        ? table("args", ["argument", "value"], Object.keys(args).sort().map((k) => [k, h("td", { class: "wrap", "data-arg": k }, value(args[k], t.contract === "pay"))]), "No arguments.")
        : h("p", { class: "note", id: "args" }, "This node does not decode the arguments of " + t.contract + "." + t.method + "."))),
    card("Receipt",
      kv([["Status", "receipt_status", badge(st)], ["Message", "message", rc.message || "—"]]),
      h("h2", { style: "margin-top:14px" }, "Events"),
      eventsTable("events", rc.events)),
    payState);
}

// payCard shows the current state of what a pay transaction made: the
// request it recorded, or the payment it made or refunded (payment and
// request ids are their transactions' ids).
async function payCard(t, args) {
  try {
    if (t.method === "request") {
      const q = await call("GetPaymentRequest", { id: t.tx_id });
      return card("Payment request, now", kv([
        ["Status", "request_status", badge(q.status, q.status === "paid" ? "ok" : q.status === "open" ? "open" : "bad")],
        ["Merchant", "request_merchant", link("#/merchant/" + encodeURIComponent(q.merchant), q.merchant)],
        ["Amount", "request_amount", String(q.amount)],
        ["Memo", "memo", q.memo || "—"],
        ["Expires", "request_expires", Number(q.expires_at) ? when(q.expires_at) : "never"],
        ["Paid by", "paid_by", q.payment ? txLink(q.payment, true) : "—", true],
      ]));
    }
    const id = t.method === "pay" ? t.tx_id : t.method === "refund" ? args.payment : "";
    if (!id) return null;
    const p = await call("GetPayment", { id });
    return card(t.method === "pay" ? "Payment, now" : "The refunded payment, now", kv([
      ["Payment", "payment", txLink(p.id, true), true],
      ["Merchant", "payment_merchant", link("#/merchant/" + encodeURIComponent(p.merchant), p.merchant)],
      ["Payer", "payer", accountLink(p.payer, true), true],
      ["Amount", "payment_amount", String(p.amount)],
      ["Refunded", "refunded", String(p.refunded)],
      ["Request", "payment_request", p.request ? txLink(p.request, true) : "none", true],
    ]));
  } catch (e) {
    return card("Payments", e.unavailable ? unavailable("The payment's current state") : h("div", { class: "error" }, e.message));
  }
}

// ---- account ----

// accountPage shows an account; "?n=N" after the address sets the
// history's page size (20 by default).
async function accountPage(arg, stale) {
  const [a0, n] = arg.split("?n=");
  const addr = a0.toLowerCase();
  const pageSize = Math.min(1000, Math.max(1, Number(n) || 20));
  const a = await call("GetAccount", { address: addr });
  if (stale()) return;
  const hist = h("div", { id: "history-box" });
  setPage("account",
    h("h1", {}, "Account ", h("span", { class: "mono", id: "account-address" }, a.address)),
    h("div", { class: "stats" },
      h("div", { class: "stat" }, h("div", { class: "k" }, "Balance"), h("div", { class: "v", "data-field": "balance" }, String(a.balance))),
      h("div", { class: "stat" }, h("div", { class: "k" }, "Nonce"), h("div", { class: "v", "data-field": "nonce" }, String(a.nonce))),
      h("div", { class: "stat" }, h("div", { class: "k" }, "Next nonce"), h("div", { class: "v", "data-field": "next_nonce" }, String(a.next_nonce))),
      h("div", { class: "stat" }, h("div", { class: "k" }, "Read at height"), h("div", { class: "v", "data-field": "read_height" }, blockLink(a.height)))),
    card("History", hist));
  const pages = [""]; // cursors of the pages seen, for "Newer"
  const load = async (at) => {
    let res;
    try {
      res = await call("ListAccountTxs", { account: addr, limit: pageSize, before: pages[at] || undefined });
    } catch (e) {
      if (stale()) return;
      put(hist, e.unavailable ? unavailable("Transaction history") : h("div", { class: "error" }, e.message));
      return;
    }
    if (stale()) return;
    const txs = res.txs || [];
    if (res.next) pages[at + 1] = res.next;
    put(hist, 
      table("history", ["transaction", "call", "block", "index", "status"],
        txs.map((x) => [txLink(x.tx_id), x.contract + "." + x.method, blockLink(x.height), String(x.index), badge(statusName(x.status))]),
        "No transactions."),
      h("div", { class: "pager" },
        h("button", { class: "btn", id: "newer", disabled: at === 0, onclick: () => load(at - 1) }, "← Newer"),
        h("span", { class: "muted", id: "page-no" }, "page " + (at + 1)),
        h("button", { class: "btn", id: "older", disabled: !res.next, onclick: () => load(at + 1) }, "Older →")));
    hist.dataset.page = String(at + 1);
  };
  await load(0);
}

// ---- merchants ----

function utcDay(d) { return d.toISOString().slice(0, 10); }

async function merchantsPage(_, stale) {
  const box = h("div", {});
  const after = [""]; // the cursor of each page seen, for "Previous"
  const load = async (at) => {
    let res;
    try {
      res = await call("ListMerchants", { limit: 50, after: after[at] || undefined });
    } catch (e) {
      if (stale()) return;
      if (!e.unavailable) throw e;
      put(box, unavailable("The merchant registry"));
      return;
    }
    if (stale()) return;
    if (res.next) after[at + 1] = res.next;
    put(box, 
      table("merchants", ["id", "name", "owner", "registered at"],
        (res.merchants || []).map((m) => [link("#/merchant/" + encodeURIComponent(m.id), m.id, { "data-merchant": m.id }), m.name, accountLink(m.owner), blockLink(m.created_height)]),
        "No merchants are registered."),
      h("div", { class: "pager" },
        h("button", { class: "btn", disabled: at === 0, onclick: () => load(at - 1) }, "← Previous"),
        h("span", { class: "muted" }, "page " + (at + 1)),
        h("button", { class: "btn", id: "more-merchants", disabled: !res.next, onclick: () => load(at + 1) }, "Next →")));
  };
  await load(0);
  if (!stale()) setPage("merchants", h("h1", {}, "Merchants"), card(null, box));
}

async function merchantPage(id, stale) {
  let m;
  try {
    m = await call("GetMerchant", { id });
  } catch (e) {
    if (stale()) return;
    if (!e.unavailable) throw e;
    setPage("merchant", h("h1", {}, "Merchant " + id), unavailable("The merchant registry"));
    return;
  }
  if (stale()) return;
  // Statements are kept by the day of block time, in UTC.
  const day = utcDay(new Date());
  const stmtBox = h("div", {});
  const paysBox = h("div", {});
  let s;
  try {
    s = await call("GetStatement", { merchant: m.id, day, list: true });
  } catch (e) {
    if (stale()) return;
    if (!e.unavailable) throw e;
    s = null;
  }
  if (stale()) return;
  const totals = (x) => (x ? x.count + " for " + x.sum : "0");
  if (!s) {
    put(stmtBox, unavailable("The daily statement"));
  } else {
    put(stmtBox, kv([
      ["Payments", "payments", totals(s.payments)],
      ["Refunds", "refunds", totals(s.refunds)],
      ["Net", "net", String(s.net)],
      ["Merkle root", "merkle_root", s.merkle_root || "— (no entries)", true],
      ["Read at height", "statement_height", blockLink(s.height)],
    ]));
    // The newest entries first; a payment's payer and refunds come from
    // GetPayment.
    const recent = (s.entries || []).slice(-20).reverse();
    const payments = await Promise.all(recent.map((x) =>
      x.kind === "payment" ? call("GetPayment", { id: x.id }).catch(() => null) : Promise.resolve(null)));
    if (stale()) return;
    put(paysBox, table("payments", ["transaction", "kind", "amount", "payer", "refunded", "block"],
      recent.map((x, i) => {
        const p = payments[i];
        return [txLink(x.id), x.kind === "refund" ? badge("refund", "warn") : badge("payment", "ok"), h("td", { "data-amount": x.id }, String(x.amount)),
          p ? accountLink(p.payer) : (x.payment ? h("span", { class: "muted" }, "of ", txLink(x.payment)) : "—"), p ? String(p.refunded) : "", blockLink(x.height)];
      }), "No payments today."),
    (s.entries || []).length > recent.length ? h("p", { class: "note" }, "The " + recent.length + " newest of " + s.entries.length + " entries today.") : null);
  }
  setPage("merchant",
    h("h1", {}, "Merchant ", h("span", { id: "merchant-id" }, m.id)),
    card(null, kv([["Name", "name", m.name], ["Owner", "owner", accountLink(m.owner, true), true], ["Registered at", "created_height", blockLink(m.created_height)]])),
    card("Statement of today, " + (s ? s.day : day) + " (UTC)", stmtBox),
    card("Recent payments", paysBox));
}

// ---- governance ----

async function proposalsPage(_, stale) {
  let res;
  try {
    res = await call("GetProposal", { id: "0" });
  } catch (e) {
    if (stale()) return;
    if (e.code !== "failed_precondition" && !e.unavailable) throw e;
    setPage("proposals", h("h1", {}, "Governance proposals"),
      card(null, h("p", { class: "note", id: "no-governance" }, e.unavailable ? "Governance proposals are not available on this node." : "This chain is open: it has no governance, so no proposals (" + e.message + ").")));
    return;
  }
  if (stale()) return;
  const ps = (res.proposals || []).slice().reverse();
  setPage("proposals", h("h1", {}, "Governance proposals"),
    card(null, table("proposals", ["id", "change", "status", "votes", "proposer", "created", "deadline"],
      ps.map((p) => [link("#/proposal/" + p.id, String(p.id), { "data-proposal": p.id }), changeSummary(p), badge(p.status), String(p.votes), /^[0-9a-f]{40}$/.test(p.proposer) ? accountLink(p.proposer) : p.proposer, when(p.created), when(p.deadline)]),
      "No proposals yet."),
    h("p", { class: "note" }, "Read at height " + res.height + "; the next proposal will be " + res.next_id + ".")));
}

function changeSummary(p) {
  return p.change_json ? (JSON.parse(p.change_json).kind || "") : "";
}

async function proposalPage(id, stale) {
  const res = await call("GetProposal", { id });
  if (stale()) return;
  const p = res.proposals[0];
  let change = null;
  if (p.change_json) {
    try { change = JSON.parse(p.change_json); } catch (e) { change = null; }
  }
  setPage("proposal",
    h("h1", {}, "Proposal ", h("span", { id: "proposal-id" }, String(p.id))),
    card(null, kv([
      ["Status", "status", badge(p.status)],
      ["Votes", "votes", String(p.votes)],
      ["Proposer", "proposer", /^[0-9a-f]{40}$/.test(p.proposer) ? accountLink(p.proposer, true) : p.proposer, true],
      ["Created", "created", when(p.created)],
      ["Deadline", "deadline", when(p.deadline)],
      ["Executed at", "executed", Number(p.executed) ? blockLink(p.executed) : "not executed"],
    ])),
    card("Change", change
      ? h("pre", { id: "change" }, JSON.stringify(change, null, 2))
      : h("p", { class: "note", id: "change" }, "This node does not decode the change; its encoding is " + atob(p.change || "").length + " bytes.")));
}

window.addEventListener("hashchange", route);
route();
