// labgen serve: the pages' script. It builds every element from the feeds' JSON with
// textContent (never HTML from data), and sends the teacher's actions with the cookie /login set.
"use strict";

const $ = (id) => document.getElementById(id);

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function ago(seconds) {
  if (seconds === null || seconds === undefined) return "";
  return seconds < 120 ? `${Math.round(seconds)} s ago` : `${Math.round(seconds / 60)} min ago`;
}

function tick() {
  $("clock").textContent = new Date().toLocaleTimeString();
}

// the teacher's token, kept by this tab since /login (never a cookie: see labgen/web/app.py)
const TOKEN_KEY = "labgen-teacher-token";

function authorized() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { Authorization: `Bearer ${token}` } : {};
}

async function whoami() {
  const me = await (await fetch("/api/me", { headers: authorized() })).json();
  $("role").textContent = me.teacher ? "teacher" : "read-only";
  $("role").classList.toggle("teacher", me.teacher);
  return me;
}

async function login() {
  const token = new URLSearchParams(location.search).get("token") || "";
  sessionStorage.setItem(TOKEN_KEY, token);
  history.replaceState(null, "", "/login"); // the token leaves the address bar at once
  const me = await (await fetch("/api/me", { headers: authorized() })).json();
  if (me.teacher) {
    location.replace("/");
  } else {
    sessionStorage.removeItem(TOKEN_KEY);
    $("notice").textContent = "wrong token: use the address `labgen serve` printed";
  }
}

// ---- the class dashboard -----------------------------------------------------------------------

function unitDot(name, state) {
  const dot = el("span", "●", state === "active" ? "ok" : "bad");
  dot.title = `${name} is ${state || "unknown"}`;
  return dot;
}

function nodesCell(row) {
  const cell = el("td");
  for (const node of row.nodes) {
    const item = el("span", `${node.name} `, "node");
    if (node.machine !== "running") item.append(el("span", node.machine, "bad"));
    for (const [unit, state] of Object.entries(node.units)) item.append(unitDot(unit, state));
    cell.append(item);
  }
  return cell;
}

// a claim's verdict (labgen.verify.claims): anything else (failed, error) is a cross
const MARKS = { passed: "✓", "not proven": "~", "not run": "·" };

function claimsCell(row) {
  const cell = el("td");
  for (const claim of row.claims) {
    const mark = el("span", MARKS[claim.verdict] || "✗", `claim ${claim.verdict.replace(/ /g, "-")}`);
    mark.title = `${claim.verdict}: ${claim.quote}` + (claim.why.length ? `\n${claim.why.join("\n")}` : "");
    cell.append(mark);
  }
  if (row.verified_ago !== null) cell.append(el("span", ` ${ago(row.verified_ago)}`, "dim"));
  else cell.append(el("span", "never", "dim"));
  return cell;
}

function boardRow(row) {
  const tr = el("tr");
  tr.dataset.lab = row.lab;
  const name = el("td");
  const link = el("a", row.lab);
  link.href = `/labs/${encodeURIComponent(row.lab)}`;
  name.append(link);
  tr.append(name, el("td", row.seat || ""), el("td", row.blueprint || ""));
  const state = el("td", row.state, row.state === "up" ? "ok" : "bad");
  state.title = row.problems.join("\n");
  tr.append(state, el("td", row.vip_holders.join(", ") || "nobody", "holder"), nodesCell(row),
            claimsCell(row), el("td", row.exercise || "", "exercise"),
            el("td", row.last_command ? `${row.last_command} (${ago(row.idle)})` : ""));
  return tr;
}

function board() {
  whoami();
  const feed = new EventSource("/api/board/events");
  feed.onmessage = (event) => {
    const data = JSON.parse(event.data);
    const rows = data.rows.map(boardRow);
    $("labs").tBodies[0].replaceChildren(...rows);
    const down = data.rows.filter((row) => row.state !== "up").length;
    $("summary").textContent = data.read_at
      ? `${data.rows.length} labs, ${down} not up; read at ${new Date(data.read_at * 1000).toLocaleTimeString()}`
      : "reading the labs…";
    for (const row of data.rows) {
      for (const problem of row.problems) {
        const tr = el("tr", null, "problem");
        const td = el("td", `${row.lab}: ${problem}`);
        td.colSpan = 9;
        tr.append(td);
        $("labs").tBodies[0].append(tr);
      }
    }
  };
}

// ---- one lab live --------------------------------------------------------------------------------

const labName = decodeURIComponent(location.pathname.split("/").pop());

async function act(path) {
  $("notice").textContent = "…";
  const response = await fetch(`/api/labs/${encodeURIComponent(labName)}/${path}`,
                               { method: "POST", headers: authorized() });
  const answer = await response.json();
  $("notice").textContent = answer.done || answer.error;
}

function state(value, good) {
  return el("td", value || "-", value === good ? "ok" : "bad");
}

function showHolder(holder) {
  const shown = $("holder");
  const text = holder || "nobody";
  if (shown.textContent !== text) {
    shown.textContent = text;
    shown.dataset.changedAt = String(Date.now()); // when the page showed it: the browser test reads it
  }
}

let drawnFor = null;

function showLab(data) {
  $("lab").textContent = data.lab;
  $("kind").textContent = `${data.blueprint}, ${data.provider}`;
  $("vip").textContent = data.vip;
  $("daemon-name").textContent = data.daemon;
  $("web-name").textContent = data.web;
  showHolder(data.holder);
  $("nodes").tBodies[0].replaceChildren(...data.nodes.map((node) => {
    const tr = el("tr");
    tr.append(el("td", node.name), state(node.machine, "running"), state(node.daemon, "active"),
              state(node.web, "active"), el("td", node.holds_vip ? "●" : "", "vip"));
    return tr;
  }));
  $("client").replaceChildren(
    "client: ", el("span", data.served.toFixed(1), "ok"), " requests/s served, ",
    el("span", data.failed.toFixed(1), data.failed ? "bad" : "ok"), " failed (last 5 s); pings ",
    `${data.pings.answered} of ${data.pings.sent} answered`);
  $("timeline").replaceChildren(...data.timeline.map((moment) => {
    const li = el("li", null, moment.kind);
    li.append(el("span", `${moment.at.toFixed(2)} s`, "at"), el("span", moment.what));
    return li;
  }));
  if (data.notice) $("notice").textContent = data.notice;
  const holders = data.holders.join(",");
  if (holders !== drawnFor) {
    drawnFor = holders;
    $("topology").src = `/api/labs/${encodeURIComponent(data.lab)}/topology.svg?holders=${holders}`;
  }
  const busy = Boolean(data.busy || data.injected || (data.job && data.job.running));
  for (const button of $("faults").children) button.disabled = busy;
  $("undo").disabled = !data.injected || Boolean(data.busy);
  $("reset").disabled = busy;
  $("start-exercise").disabled = busy;
  if (data.job) {
    $("job").hidden = false;
    const end = data.job.running ? "(running)" : `(exit ${data.job.exit})`;
    $("job").textContent = [`labgen ${data.job.what} ${end}`, ...data.job.lines].join("\n");
  }
}

async function teacherControls() {
  $("teacher").hidden = false;
  for (const fault of ["stop", "crash", "freeze", "link-down", "reboot", "reset"]) {
    const button = el("button", fault === "reset" ? "power cut" : fault);
    button.dataset.fault = fault;
    button.onclick = () => act(`fault/${fault}`);
    $("faults").append(button);
  }
  $("undo").onclick = () => act("undo");
  $("reset").onclick = () => act("reset");
  const exercises = await (await fetch(`/api/labs/${encodeURIComponent(labName)}/exercises`)).json();
  for (const exercise of exercises) {
    const option = el("option", `${exercise.id} (${exercise.difficulty})`);
    option.value = exercise.id;
    $("exercise").append(option);
  }
  $("start-exercise").onclick = () => act(`exercise/${encodeURIComponent($("exercise").value)}`);
}

async function lab() {
  const me = await whoami();
  if (me.teacher) teacherControls();
  const pass = me.pass ? `?pass=${encodeURIComponent(me.pass)}` : "";
  const feed = new EventSource(`/api/labs/${encodeURIComponent(labName)}/events${pass}`);
  feed.onmessage = (event) => showLab(JSON.parse(event.data));
  feed.addEventListener("problem", (event) => {
    feed.close();
    $("notice").textContent = event.data;
  });
}

if (document.body.dataset.page === "login") {
  login();
} else {
  setInterval(tick, 1000);
  tick();
  if (document.body.dataset.page === "board") board();
  else lab();
}
