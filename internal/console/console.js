// The console's page: plain JavaScript, no build step. It talks to the console's own
// origin only. The session's client_secret lives in the variable `current` and nowhere
// else: never in a URL, a cookie or storage.
"use strict";

const STAGES = ["awaiting_link", "refreshing", "syncing", "snapshot", "scoring", "recording", "decided"];
const $ = (id) => document.getElementById(id);
let current = null; // {id, clientSecret}
let personas = null;
let pollTimer = null;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else if (k === "text") e.textContent = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

// call sends a request to the console and returns its JSON, or throws an Error with the
// API's or the sandbox's message (and the field it names).
async function call(method, path, body) {
  const opts = { method, headers: { "X-Console": "1" } };
  if (body instanceof FormData) {
    opts.body = body;
  } else if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const res = await fetch("/console/api" + path, opts);
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const e = (data && data.error) || {};
    let msg = e.message || ("HTTP " + res.status);
    if (e.fields && e.fields.length > 1) msg += "\n" + e.fields.map((f) => f.field + ": " + f.problem).join("\n");
    throw new Error(msg);
  }
  return data;
}

async function createApplication(ev) {
  ev.preventDefault();
  $("create-error").textContent = "";
  $("create").disabled = true;
  try {
    const created = await call("POST", "/applications", {
      amount: $("amount").value, term_months: parseInt($("term").value, 10) || 0,
      currency: $("currency").value, name: $("name").value, email: $("email").value,
    });
    current = { id: created.application_id, clientSecret: created.client_secret };
    show(created.application_id);
    listApplications();
  } catch (e) {
    $("create-error").textContent = e.message;
  } finally {
    $("create").disabled = false;
  }
}

async function openLink() {
  $("link-error").textContent = "";
  if (!personas) {
    try {
      personas = (await call("GET", "/personas")).data;
    } catch (e) {
      $("view-error").textContent = "personas: " + e.message;
      return;
    }
    const box = $("personas");
    personas.forEach((p, i) => {
      const radio = el("input", { type: "radio", name: "persona", value: p.name, id: "persona-" + p.name });
      if (i === 0) radio.checked = true;
      box.append(el("label", { class: "persona", for: "persona-" + p.name }, radio,
        el("b", { text: p.name }), el("div", { class: "muted", text: p.story + " (expected: " + (p.expected_outcome || "?") + ")" })));
    });
  }
  $("link-dialog").showModal();
}

// failureFields are the sandbox's per-link settings for the dialog's failure choice.
function failureFields(choice) {
  switch (choice) {
    case "inactive": case "disconnected": return { account_status_at_refresh: choice };
    case "refresh_failed": return { refresh_outcome: "failed" };
    case "drop_webhooks": return { drop_refresh_webhooks: true };
  }
  return {};
}

async function link(ev) {
  ev.preventDefault();
  if (!current || !current.clientSecret) return;
  const failure = $("failure").value;
  const file = $("statement").files[0];
  let path, body;
  if (file) {
    // The statement is converted on the console's server; the secret goes in the form body.
    path = "/link-csv";
    body = new FormData();
    body.append("client_secret", current.clientSecret);
    body.append("file", file);
    for (const id of ["map-date", "map-format", "map-description", "map-amount", "map-debit", "map-credit", "map-balance", "map-currency"]) {
      if ($(id).value) body.append($(id).name, $(id).value);
    }
    for (const [k, v] of Object.entries(failureFields(failure))) body.append(k, String(v));
  } else {
    const chosen = document.querySelector('input[name="persona"]:checked');
    if (!chosen) { $("link-error").textContent = "choose a persona"; return; }
    path = "/link";
    body = { client_secret: current.clientSecret, persona: chosen.value };
    Object.assign(body, failureFields(failure));
  }
  $("link-submit").disabled = true;
  try {
    const linked = await call("POST", path, body);
    if (linked.rows) $("view-error").textContent = "";
    $("linked").textContent = linked.rows ? "linked your statement: " + linked.rows + " transactions" : "linked " + (body.persona || "");
    current.clientSecret = null; // the session is complete: the secret is spent
    $("statement").value = "";
    $("link-dialog").close();
    $("link-step").hidden = true;
    poll();
  } catch (e) {
    $("link-error").textContent = e.message;
  } finally {
    $("link-submit").disabled = false;
  }
}

function show(id) {
  $("view-id").textContent = id;
  $("decision").textContent = "";
  $("links").textContent = "";
  $("view-error").textContent = "";
  $("linked").textContent = "";
  if (!current || current.id !== id) current = { id, clientSecret: null };
  poll();
}

async function poll() {
  clearTimeout(pollTimer);
  if (!current) return;
  const id = current.id;
  let view;
  try {
    view = await call("GET", "/applications/" + encodeURIComponent(id));
  } catch (e) {
    $("view-error").textContent = e.message;
    pollTimer = setTimeout(poll, 2000);
    return;
  }
  if (!current || current.id !== id) return;
  render(view);
  const st = view.application.stage;
  if (st !== "decided" && st !== "failed") pollTimer = setTimeout(poll, 700);
  else listApplications();
}

function render(view) {
  const app = view.application;
  const stages = $("stages");
  stages.textContent = "";
  const at = STAGES.indexOf(app.stage);
  for (const [i, s] of STAGES.entries()) {
    const cls = app.stage === "decided" || i < at ? "stage done" : i === at ? "stage now" : "stage";
    stages.append(el("span", { class: cls, text: s.replace("_", " ") }));
  }
  if (app.stage === "failed") stages.append(el("span", { class: "stage now", text: "failed: " + (app.failure_cause || "") }));
  $("link-step").hidden = !(app.stage === "awaiting_link" && current && current.clientSecret);

  const links = $("links");
  links.textContent = "";
  if (view.workflow_url) links.append(el("a", { href: view.workflow_url, target: "_blank", rel: "noopener", text: "workflow in the Temporal Web UI" }));
  const d = app.decision;
  const box = $("decision");
  box.textContent = "";
  if (!d) return;
  links.append(" · ", el("a", { href: view.report_url, target: "_blank", rel: "noopener", id: "report-link", text: "decision report" }));
  box.append(el("div", { class: "outcome " + d.outcome, id: "outcome", text: d.outcome }));
  const facts = [];
  if (d.score != null) facts.push("score " + d.score);
  if (d.pd != null) facts.push("PD " + (d.pd * 100).toFixed(1) + "%");
  facts.push("model " + (d.model_version || "-"), "policy " + (d.policy_version || "-"), "feature set " + (d.feature_set_version || "-"));
  box.append(el("div", { class: "muted", text: facts.join(" · ") }));
  if (d.reasons && d.reasons.length) {
    box.append(el("h2", { text: "Reasons" }));
    const ul = el("ul");
    for (const r of d.reasons) ul.append(el("li", { text: (r.code ? r.code + ": " : "") + (r.text || "") + (r.value ? " (" + r.value + ")" : "") }));
    box.append(ul);
  }
  if (d.rules && d.rules.length) {
    box.append(el("h2", { text: "Policy rules" }));
    const t = el("table", {}, el("tr", {}, el("th", { text: "rule" }), el("th", { text: "actual" }), el("th", { text: "threshold" }), el("th", { text: "result" })));
    for (const r of d.rules) {
      t.append(el("tr", {}, el("td", { text: r.rule }), el("td", { text: r.actual }), el("td", { text: r.threshold }),
        el("td", { class: r.passed ? "pass" : "fail", text: r.passed ? "passed" : "failed" })));
    }
    box.append(t);
  }
}

async function listApplications() {
  let list;
  try {
    list = await call("GET", "/applications");
  } catch (e) {
    return;
  }
  const body = $("apps");
  body.textContent = "";
  for (const a of list.data) {
    const open = el("a", { href: "#", text: a.application_id });
    open.addEventListener("click", (ev) => { ev.preventDefault(); show(a.application_id); });
    body.append(el("tr", {}, el("td", {}, open), el("td", { text: a.stage }), el("td", { text: a.outcome || "" })));
  }
}

$("new-app").addEventListener("submit", createApplication);
$("open-link").addEventListener("click", openLink);
$("link-form").addEventListener("submit", link);
$("link-cancel").addEventListener("click", () => $("link-dialog").close());
$("refresh-list").addEventListener("click", listApplications);
listApplications();
