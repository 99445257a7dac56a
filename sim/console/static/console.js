// The classroom console: follows the newest flow over server-sent events, draws its
// sequence diagram message by message, steps through it, inspects each message.
// Everything that came over the wire is put on the page with textContent, never as HTML.
"use strict";

const ORDER = ["user-agent", "client", "authorization-server", "resource-server", "attacker"];
const SHORT = { "user-agent": "Browser", "client": "Client", "authorization-server": "Auth server",
                "resource-server": "Resource server", "attacker": "Attacker" };
const SVGNS = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);

// `stepsOf`: the flow `steps` belong to (a stream message adds to them only if it is `flow`).
// `details`: inspected steps the stream carried, by exchange (the newest step of a flow).
const state = { flows: [], flow: null, steps: [], stepsOf: null, newest: "", selected: 0,
                follow: true, details: new Map() };

function el(tag, attrs = {}, text = null) {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVGNS, tag.slice(4))
                                      : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== null) node.textContent = text;
  return node;
}

async function getJSON(url) {
  const response = await fetch(url, { cache: "no-store" });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return response.json();
}

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "X-Console": "1", "Content-Type": "application/json" },
    body: JSON.stringify(body || {}),
  });
  return { ok: response.ok, body: await response.json().catch(() => ({})) };
}

function elide(text, size) {
  return text.length > size ? text.slice(0, size - 1) + "…" : text;
}

function pathOnly(path) {
  const q = path.indexOf("?");
  return q < 0 ? path : path.slice(0, q) + "?…";
}

// -- flows --------------------------------------------------------------------------
async function loadFlows() {
  showFlows((await getJSON("/api/flows")).flows);
}

function showFlows(flows) {
  state.flows = flows;
  const select = $("flow-select");
  select.replaceChildren();
  for (const flow of state.flows) {
    const option = el("option", { value: flow.id }, `${flow.label} · ${flow.events} msgs`);
    select.append(option);
  }
  if (state.follow && state.flows.length) {
    const newest = state.flows.find((f) => f.kind !== "browsing") || state.flows[0];
    if (newest.id !== state.flow) {
      state.flow = newest.id;
      state.selected = 0;
    }
  }
  if (state.flow) select.value = state.flow;
  $("empty").hidden = state.flows.length > 0;
}

async function loadFlow(followNewest) {
  if (!state.flow) return render();
  let data;
  try {
    data = await getJSON(`/api/flows/${encodeURIComponent(state.flow)}`);
  } catch (error) {
    state.flow = null;
    state.steps = [];
    state.stepsOf = null;
    return render();
  }
  showSteps(data.events, data.newest, followNewest);
}

function showSteps(steps, newest, followNewest) {
  const grew = steps.length !== state.steps.length;
  state.steps = steps;
  state.stepsOf = state.flow;
  state.newest = newest;
  if (followNewest || !state.selected) {
    const index = state.steps.findIndex((s) => s.exchange === state.newest);
    state.selected = index >= 0 ? index + 1 : state.steps.length;
  }
  render();
  if (grew || followNewest) showStep();
}

// -- the diagram ----------------------------------------------------------------------
function render() {
  drawDiagram();
  listMessages();
  for (const a of document.querySelectorAll("#exports a")) {
    if (state.flow) {
      a.href = `/api/flows/${encodeURIComponent(state.flow)}/export/${a.dataset.format}`;
      a.setAttribute("download", "");
    } else {
      a.removeAttribute("href");
    }
  }
}

function drawDiagram() {
  const box = $("diagram");
  if ($("diagram-pane").classList.contains("comparing")) return;
  box.replaceChildren();
  if (!state.steps.length) return;
  const present = new Set(state.steps.flatMap((s) => [s.from, s.to]));
  const parties = ORDER.filter((p) => present.has(p));
  const width = Math.max(box.clientWidth || 700, 480);
  const margin = 8, colW = (width - 2 * margin) / parties.length;
  const top = 44, rowH = 50;
  const height = top + 20 + state.steps.length * rowH;
  const svg = el("svg:svg", { width, height, viewBox: `0 0 ${width} ${height}`,
                              role: "img", "aria-label": "Sequence diagram of the flow" });
  const x = (p) => margin + (parties.indexOf(p) + 0.5) * colW;
  const defs = el("svg:defs");
  for (const [id, colour] of [["arrow", "#111"], ["arrow-red", "#b00020"]]) {
    const marker = el("svg:marker", { id, viewBox: "0 0 10 10", refX: 10, refY: 5,
      markerUnits: "userSpaceOnUse", markerWidth: 13, markerHeight: 13,
      orient: "auto-start-reverse" });
    marker.append(el("svg:path", { d: "M0,0 L10,5 L0,10 z", fill: colour }));
    defs.append(marker);
  }
  svg.append(defs);
  parties.forEach((p) => {
    svg.append(el("svg:line", { class: "lifeline", x1: x(p), x2: x(p), y1: top, y2: height }));
    const w = Math.min(colW - 8, 170);
    svg.append(el("svg:rect", { class: `party-box ${p}`, x: x(p) - w / 2, y: 4, width: w,
                                height: 34, rx: 5 }));
    const name = el("svg:text", { class: "party-name", x: x(p), y: 27, "text-anchor": "middle" },
                    SHORT[p] || p);
    if (colW < 175) name.classList.add("narrow");
    svg.append(name);
  });
  state.steps.forEach((s, i) => {
    const y = top + 20 + i * rowH + rowH * 0.62;
    const classes = ["msg", s.kind];
    if (s.from === "attacker" || s.to === "attacker") classes.push("attacker");
    if (s.exchange === state.newest) classes.push("newest");
    if (i + 1 === state.selected) classes.push("selected");
    const g = el("svg:g", { class: classes.join(" "), tabindex: -1, "data-seq": s.seq });
    g.append(el("svg:rect", { class: "band", x: 0, y: y - rowH * 0.62, width, height: rowH }));
    const x1 = x(s.from), x2 = x(s.to);
    const red = classes.includes("attacker");
    g.append(el("svg:line", { x1, x2, y1: y, y2: y, "marker-end": `url(#${red ? "arrow-red" : "arrow"})` }));
    const mid = (x1 + x2) / 2, span = Math.abs(x2 - x1);
    const label = `${s.seq}. ${s.method} ${pathOnly(s.path)}`;
    g.append(el("svg:text", { x: mid, y: y - 7, "text-anchor": "middle" },
                elide(label, Math.max(12, Math.floor(span / 9)))));
    const right = x2 > x1;
    g.append(el("svg:text", { class: "status", x: right ? x2 - 4 : x2 + 4, y: y + 18,
                              "text-anchor": right ? "end" : "start" },
                elide(`${s.status}${s.location ? " → " + pathOnly(s.location.replace(/^https?:\/\/[^/]+/, "")) : ""}`,
                      Math.max(8, Math.floor((s.auth ? span / 2 : span) / 9)))));
    if (s.auth) {
      g.append(el("svg:text", { class: "auth", x: right ? x1 + 4 : x1 - 4, y: y + 18,
                                "text-anchor": right ? "start" : "end" }, span > 260 ? `Authorization: ${s.auth}` : s.auth));
    }
    const title = el("svg:title", {}, `${s.seq}. ${s.from} → ${s.to}: ${s.method} ${s.path} (${s.status})`);
    g.append(title);
    g.addEventListener("click", () => select(i + 1));
    svg.append(g);
  });
  box.append(svg);
  const focus = svg.querySelector(".msg.selected") || svg.querySelector(".msg.newest");
  if (focus) scrollIntoPane(focus, $("diagram-pane"));
}

function scrollIntoPane(node, pane) {
  const a = node.getBoundingClientRect(), b = pane.getBoundingClientRect();
  if (a.top < b.top + 40 || a.bottom > b.bottom - 10) {
    pane.scrollTop += a.top - b.top - b.height / 3;
  }
}

function listMessages() {
  const list = $("messages");
  list.replaceChildren();
  state.steps.forEach((s, i) => {
    const item = el("li", { "data-seq": s.seq },
      `${s.from} → ${s.to}: ${s.method} ${s.path.split("?")[0]} — ${s.status}`);
    if (s.exchange === state.newest) item.classList.add("newest");
    if (i + 1 === state.selected) item.classList.add("selected");
    item.addEventListener("click", () => select(i + 1));
    list.append(item);
  });
}

// -- step through and inspect -------------------------------------------------------------
function select(index) {
  if (!state.steps.length) return;
  state.selected = Math.min(Math.max(index, 1), state.steps.length);
  state.follow = false;
  $("follow").checked = false;
  render();
  showStep();
}

function showStep() {
  const s = state.steps[state.selected - 1];
  if (!s) {
    $("step-title").textContent = "Step –";
    for (const id of ["step-line", "note", "rfc"]) $(id).textContent = "";
    $("point-at").replaceChildren();
    $("inspect").replaceChildren();
    inspected = null;
    return;
  }
  $("step-title").textContent = `Step ${s.seq} of ${state.steps.length}`;
  $("step-line").textContent = `${s.from} → ${s.to}: ${s.method} ${s.path} → ${s.status}`;
  showNote(s);
  const points = $("point-at");
  points.replaceChildren();
  for (const p of s.point_at) points.append(el("li", {}, `Point at ${p.text} (${p.rfc})`));
  inspectStep(s.seq);
}

// A step from a stream message is not explained: its note comes with its inspection.
function showNote(s) {
  $("note").textContent = s.note || "";
  $("rfc").textContent = s.rfc_cited || s.rfc || "";
}

function table(rows) {
  const t = el("table");
  for (const row of rows) {
    const tr = el("tr");
    tr.append(el("td", {}, row.name));
    const td = el("td");
    const value = el("span", row.secret ? { class: "secret" } : {}, row.value);
    td.append(value);
    if (row.secret) td.append(el("span", { class: "secret-tag" }, "secret"));
    tr.append(td);
    t.append(tr);
  }
  return t;
}

// The step whose message is shown: following a flow, each message re-selects the newest
// step, often the one already shown (a recorded exchange does not change).
let inspected = null;

async function inspectStep(seq) {
  const box = $("inspect");
  const flow = state.flow;
  const shown = `${flow} ${state.steps[seq - 1]?.exchange}`;
  if (shown === inspected && state.steps[seq - 1]?.note !== undefined) return;
  inspected = shown;
  let d = state.details.get(state.steps[seq - 1]?.exchange);
  try {
    d = d || await getJSON(`/api/flows/${encodeURIComponent(flow)}/steps/${seq}`);
  } catch (error) {
    inspected = null;
    box.replaceChildren(el("p", {}, String(error.message)));
    return;
  }
  if (flow !== state.flow || state.steps[state.selected - 1]?.seq !== seq) {
    if (inspected === shown) inspected = null;  // not shown after all
    return;
  }
  const step = state.steps[seq - 1];
  if (step.note === undefined) {  // kept on the step: the list keeps its steps by exchange
    Object.assign(step, { note: d.note, rfc: d.rfc, rfc_cited: d.rfc_cited });
    showNote(step);
  }
  const parts = [el("h3", {}, "Request"),
    el("pre", { class: "request-line" }, `${d.request.method} ${d.request.url}`)];
  if (d.request.query.length) parts.push(el("p", {}, "Query parameters"), table(d.request.query));
  parts.push(el("p", {}, "Headers"), table(d.request.headers));
  if (d.request.form.length) parts.push(el("p", {}, "Form body"), table(d.request.form));
  else if (d.request.body) parts.push(el("pre", {}, d.request.body));
  parts.push(el("h3", {}, `Response ${d.response.status}`));
  if (d.response.location) {
    parts.push(el("pre", {}, `Location: ${d.response.location}`));
    if (d.response.location_params.length) parts.push(table(d.response.location_params));
  }
  parts.push(el("p", {}, "Headers"), table(d.response.headers));
  if (d.response.body) parts.push(el("pre", { class: "response-body" }, d.response.body));
  if (d.pkce) {
    const p = d.pkce;
    parts.push(el("h3", {}, "PKCE, checked with the actual values"));
    parts.push(table([
      { name: "code_verifier", value: p.code_verifier, secret: true },
      { name: "SHA-256 (hex)", value: p.sha256_hex },
      { name: "base64url", value: p.base64url },
      { name: "code_challenge sent", value: p.code_challenge_sent || "(none in this flow)" },
    ]));
    const ok = p.matches === true;
    parts.push(el("p", { class: ok ? "ok" : "bad" },
      ok ? "equal: so the server accepts the code (RFC 7636 §4.6)"
         : "not equal, or no challenge sent: the server must refuse (RFC 7636 §4.6)"));
  }
  for (const [name, token] of Object.entries(d.jwt)) {
    parts.push(el("h3", {}, `${name}: a JWT`));
    parts.push(el("p", { class: "label" }, d.jwt_label));
    parts.push(el("pre", { class: "jwt" }, JSON.stringify({ header: token.header, claims: token.claims }, null, 2)));
    const valid = String(token.signature).startsWith("valid");
    parts.push(el("p", { class: valid ? "ok jwt-signature" : "bad jwt-signature" }, `Signature: ${token.signature}`));
  }
  box.replaceChildren(...parts);
}

// -- live updates ---------------------------------------------------------------------------
// Each message names the flows that changed and carries their new list entries and steps,
// built once by the console for every open tab: the page asks the API only for what a
// message lacks (it connected mid-flow, or a catch-up message names the flows only).
function connect() {
  const source = new EventSource("/api/stream");
  let queue = Promise.resolve();
  source.onopen = () => { $("live-status").textContent = "live"; };
  source.onerror = () => { $("live-status").textContent = "reconnecting…"; };
  source.onmessage = (message) => {
    const data = JSON.parse(message.data);
    queue = queue.then(() => changed(data)).catch(() => {});  // one message at a time
  };
}

async function changed(data) {
  const before = state.flow;
  if (!listFromMessage(data)) await loadFlows();
  if (!data.flows.includes(state.flow) && state.flow === before) return;
  if (!stepsFromMessage(data)) await loadFlow(state.follow);
}

function listFromMessage(data) {
  if (!data.summaries) return false;
  const byId = new Map(state.flows.map((f) => [f.id, f]));
  for (const summary of data.summaries) byId.set(summary.id, summary);
  const ids = data.list || state.flows.map((f) => f.id);
  if (data.flows.some((id) => !ids.includes(id)) || ids.some((id) => !byId.has(id))) return false;
  showFlows(ids.map((id) => byId.get(id)));
  return true;
}

function stepsFromMessage(data) {
  const carried = data.steps && data.steps[state.flow];
  if (!carried) return false;
  if (carried.detail) {
    if (state.details.size > 200) state.details.clear();
    state.details.set(carried.newest, carried.detail);
  }
  const known = new Map(state.stepsOf === state.flow ? state.steps.map((s) => [s.exchange, s]) : []);
  for (const [exchange, step] of Object.entries(carried.new)) known.set(exchange, step);
  if (carried.order.some((exchange) => !known.has(exchange))) return false;
  showSteps(carried.order.map((exchange, i) => ({ ...known.get(exchange), seq: i + 1 })),
            carried.newest, state.follow);
  return true;
}

// -- controls -------------------------------------------------------------------------------
$("flow-select").addEventListener("change", async (e) => {
  state.flow = e.target.value;
  state.follow = false;
  $("follow").checked = false;
  state.selected = 0;
  state.steps = [];
  state.stepsOf = null;
  await loadFlow(false);
});
$("follow").addEventListener("change", async (e) => {
  state.follow = e.target.checked;
  if (state.follow) { await loadFlows(); await loadFlow(true); }
});
$("prev").addEventListener("click", () => select(state.selected - 1));
$("next").addEventListener("click", () => select(state.selected + 1));
document.addEventListener("keydown", (e) => {
  if (["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement?.tagName)) return;
  if (e.key === "ArrowLeft" || e.key === "ArrowUp") { select(state.selected - 1); e.preventDefault(); }
  if (e.key === "ArrowRight" || e.key === "ArrowDown") { select(state.selected + 1); e.preventDefault(); }
});
$("clear").addEventListener("click", async () => {
  await post("/api/clear");
  state.flow = null; state.steps = []; state.stepsOf = null; state.follow = true; $("follow").checked = true;
  await loadFlows(); render(); showStep();
});
$("reset").addEventListener("click", async () => {
  const answer = await post("/api/reset");
  $("live-status").textContent = answer.ok ? "everyone logged out" : "reset failed";
});
$("pause").addEventListener("change", async (e) => {
  const answer = await post("/api/pause", { on: e.target.checked });
  e.target.checked = !!answer.body.on;
});
window.addEventListener("resize", () => drawDiagram());

// -- scenarios and attacks ------------------------------------------------------------------
let scenarios = [];

function currentScenario() {
  return scenarios.find((s) => s.name === $("scenario").value);
}

function showDefences() {
  const box = $("defences");
  box.replaceChildren(el("legend", {}, "Defences (untick to switch one off)"));
  const scenario = currentScenario();
  if (!scenario) return;
  if (!scenario.defences.length) box.append(el("p", {}, "A plain flow: no defence to switch."));
  for (const name of scenario.defences) {
    const label = el("label");
    const box1 = el("input", { type: "checkbox", "data-defence": name, checked: "" });
    label.append(box1, document.createTextNode(" " + name));
    box.append(label);
  }
  $("compare").disabled = !scenario.defences.length;
  $("lure").hidden = !scenario.lure;
}

function switchedOff() {
  return [...document.querySelectorAll("#defences input[data-defence]")]
    .filter((i) => !i.checked).map((i) => i.dataset.defence);
}

async function attackAction(url, label) {
  $("run-status").textContent = `${label}…`;
  const answer = await post(url, { off: switchedOff() });
  if (!answer.ok) {
    $("run-status").textContent = `${label}: ${answer.body.error_description || answer.body.error || "failed"}`;
    return null;
  }
  return answer.body;
}

function describe(outcome) {
  if (!outcome) return "";
  if ("attack_succeeded" in outcome) {
    return outcome.attack_succeeded ? "the attack SUCCEEDED" : `the attack was stopped${outcome.stopped_by ? " by " + outcome.stopped_by : ""}`;
  }
  return "done";
}

async function loadScenarios() {
  scenarios = (await getJSON("/api/scenarios")).scenarios;
  const select = $("scenario");
  select.replaceChildren();
  for (const s of scenarios) {
    select.append(el("option", { value: s.name }, `${s.name}${s.kind === "attack" ? " (attack)" : ""}`));
  }
  select.value = (scenarios.find((s) => s.lure) || scenarios[0]).name;
  showDefences();
}

$("scenario").addEventListener("change", showDefences);
$("run").addEventListener("click", async () => {
  const name = $("scenario").value;
  const body = await attackAction(`/api/scenarios/${encodeURIComponent(name)}/run`, `Running ${name}`);
  if (!body) return;
  $("run-status").textContent = `${name}: ${describe(body.outcome)}.`;
  state.follow = true; $("follow").checked = true;
  state.flow = body.flow; await loadFlows(); await loadFlow(true);
});
$("compare").addEventListener("click", async () => {
  const name = $("scenario").value;
  const body = await attackAction(`/api/scenarios/${encodeURIComponent(name)}/compare`, `Comparing ${name}`);
  if (!body) return;
  $("run-status").textContent = `defences on: ${describe(body.outcomes[0])}; ${body.off.join(", ")} off: ${describe(body.outcomes[1])}.`;
  await showComparison(body);
});

function cell(step) {
  const td = el("td");
  if (!step) return td;
  const who = el("span", step.from === "attacker" || step.to === "attacker" ? { class: "attacker" } : {},
                 `${step.from} → ${step.to}`);
  const status = el("span", step.status >= 400 ? { class: "refused" } : {}, ` ${step.status}`);
  td.append(who, document.createTextNode(`: ${step.method} ${step.path.split("?")[0]}`), status);
  if (step.defence) td.append(el("div", { class: "refused" }, step.defence));
  return td;
}

async function showComparison(body) {
  const [on, off] = await Promise.all(body.flows.map((f) => getJSON(`/api/flows/${encodeURIComponent(f)}`)));
  const table = $("comparison-table");
  table.replaceChildren();
  const head = el("tr");
  head.append(el("th", { class: "num" }, "#"),
              el("th", {}, `defences on: ${describe(body.outcomes[0])}`),
              el("th", {}, `${body.off.join(", ")} off: ${describe(body.outcomes[1])}`));
  table.append(head);
  const rows = Math.max(on.events.length, off.events.length);
  for (let i = 0; i < rows; i++) {
    const a = on.events[i], b = off.events[i];
    const same = a && b && a.from === b.from && a.to === b.to && a.method === b.method
      && a.path.split("?")[0] === b.path.split("?")[0] && a.status === b.status;
    const tr = el("tr", same ? {} : { class: "differs" });
    tr.append(el("td", { class: "num" }, String(i + 1)), cell(a), cell(b));
    table.append(tr);
  }
  $("comparison-svg").href = `/api/compare/${encodeURIComponent(body.flows[0])}/${encodeURIComponent(body.flows[1])}`;
  $("comparison").hidden = false;
  $("diagram-pane").classList.add("comparing");
  $("diagram-pane").scrollTop = 0;
}

$("close-comparison").addEventListener("click", () => {
  $("comparison").hidden = true;
  $("diagram-pane").classList.remove("comparing");
  drawDiagram();
});
$("lure").addEventListener("click", async () => {
  const name = $("scenario").value;
  const body = await attackAction(`/api/lures/${encodeURIComponent(name)}`, "Preparing the lure");
  if (!body) return;
  const off = body.off.length ? `${body.off.join(", ")} switched off` : "every defence on";
  $("run-status").textContent = `The attacker logged in as bob and kept the callback with bob's code (${off}).`;
  $("lure-link").href = body.lure;
  $("lure-box").hidden = false;
  await loadBrowserDefences();
});

async function loadBrowserDefences() {
  const data = await getJSON("/api/browser-defences");
  const box = $("browser-defences");
  box.replaceChildren(el("legend", {}, "Defences for logins by hand (in any browser)"));
  for (const name of data.defences) {
    const label = el("label");
    const input = el("input", { type: "checkbox", "data-browser-defence": name });
    input.checked = !data.off.includes(name);
    input.addEventListener("change", async () => {
      const off = [...box.querySelectorAll("input")].filter((i) => !i.checked)
        .map((i) => i.dataset.browserDefence);
      await post("/api/browser-defences", { off });
    });
    label.append(input, document.createTextNode(" " + name));
    box.append(label);
  }
}

(async function start() {
  try {
    $("pause").checked = !!(await getJSON("/api/pause")).on;
  } catch (_) { /* tracing off */ }
  await loadFlows();
  const wanted = new URLSearchParams(location.hash.slice(1));
  if (wanted.get("flow") && state.flows.some((f) => f.id === wanted.get("flow"))) {
    state.flow = wanted.get("flow");
    state.follow = false;
    $("follow").checked = false;
    $("flow-select").value = state.flow;
    await loadFlow(false);
    const [method, path] = (wanted.get("step") || "").split(" ");
    const index = state.steps.findIndex((s) => s.method === method && s.path.split("?")[0] === path);
    if (index >= 0) select(index + 1);
  } else {
    await loadFlow(true);
  }
  connect();
  try { await loadScenarios(); await loadBrowserDefences(); } catch (_) { /* no scenarios */ }
})();
