package card

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/cashflow-underwriting/underwriter/scoring"
	"github.com/cashflow-underwriting/underwriter/store"
)

// chartDays is how many days of combined end-of-day balance the chart shows: the 90-day
// window most balance features use.
const chartDays = 90

// workflowPrefix is what workflows.WorkflowID puts before the application key.
const workflowPrefix = "underwrite/"

// decision answers GET /decision?workflow_id=underwrite/<application key> with the card's
// HTML fragment.
func (h *Handler) decision(w http.ResponseWriter, r *http.Request) {
	if err := h.session(w, r); err != nil {
		http.Error(w, "unauthorized: "+err.Error(), http.StatusUnauthorized)
		return
	}
	wfID := r.URL.Query().Get("workflow_id")
	key, ok := strings.CutPrefix(wfID, workflowPrefix)
	if !ok || key == "" {
		http.Error(w, fmt.Sprintf("workflow_id: %q is not an Underwrite workflow id (underwrite/<application>)", wfID), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	d, err := h.cfg.Store.GetDecision(r.Context(), key)
	if errors.Is(err, store.ErrNotFound) {
		_ = fragment.Execute(w, view{ApplicationID: key})
		return
	}
	if err != nil {
		http.Error(w, "read the decision: "+err.Error(), http.StatusInternalServerError)
		return
	}
	v, err := h.view(r, d)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	_ = fragment.Execute(w, v)
}

// view is what the card shows of one decision.
type view struct {
	ApplicationID string
	Decided       bool
	Outcome       string
	Score         string
	PD            string
	DecidedAt     string
	Versions      string
	Reasons       []scoring.Reason
	Rules         []scoring.RuleResult
	Chart         *chart
}

func (h *Handler) view(r *http.Request, d store.Decision) (view, error) {
	v := view{ApplicationID: d.ApplicationID, Decided: true, Outcome: d.Outcome, Score: "–", PD: "–",
		DecidedAt: d.DecidedAt.UTC().Format(time.RFC3339),
		Versions:  fmt.Sprintf("model %s · policy %s · features %s", d.ModelVersion, d.PolicyVersion, d.FeatureSetVersion)}
	if d.Score != nil {
		v.Score = fmt.Sprint(*d.Score)
	}
	if d.PD != nil {
		v.PD = fmt.Sprintf("%.1f%%", *d.PD*100)
	}
	if err := unmarshalOptional(d.Reasons, &v.Reasons); err != nil {
		return v, fmt.Errorf("decision of %s: reasons: %w", d.ApplicationID, err)
	}
	if err := unmarshalOptional(d.Rules, &v.Rules); err != nil {
		return v, fmt.Errorf("decision of %s: rules: %w", d.ApplicationID, err)
	}
	if d.SnapshotID != nil {
		sn, err := h.cfg.Store.GetSnapshot(r.Context(), *d.SnapshotID)
		if err != nil {
			return v, err
		}
		if v.Chart, err = balanceChart(sn); err != nil {
			return v, fmt.Errorf("decision of %s: snapshot %d: %w", d.ApplicationID, sn.ID, err)
		}
	}
	return v, nil
}

func unmarshalOptional(b json.RawMessage, dst any) error {
	if len(b) == 0 {
		return nil
	}
	return json.Unmarshal(b, dst)
}

// chart is the combined end-of-day balance over the chartDays days up to the snapshot's
// as-of day, as an SVG polyline.
type chart struct {
	Width, Height int
	Points        string
	ZeroY         float64
	ShowZero      bool
	Min, Max      string
	From, To      string
	Currency      string
}

func balanceChart(sn store.Snapshot) (*chart, error) {
	l, err := scoring.ParseLedgerFile(sn.Ledger)
	if err != nil {
		return nil, err
	}
	from := sn.AsOf.AddDate(0, 0, -(chartDays - 1))
	set, err := scoring.DailyBalances(l, from, sn.AsOf)
	if err != nil {
		return nil, err
	}
	eod := set.Combined.EOD
	if len(eod) == 0 {
		return nil, nil
	}
	c := &chart{Width: 360, Height: 80, From: set.Start.Format(time.DateOnly), To: set.End.Format(time.DateOnly)}
	if len(l.Accounts) > 0 {
		c.Currency = strings.ToUpper(l.Accounts[0].Currency)
	}
	lo, hi := eod[0], eod[0]
	for _, b := range eod {
		lo, hi = min(lo, b), max(hi, b)
	}
	span := float64(hi - lo)
	if span == 0 {
		span = 1
	}
	y := func(b int64) float64 { return float64(c.Height-4) - float64(b-lo)/span*float64(c.Height-8) }
	var pts strings.Builder
	for i, b := range eod {
		x := float64(i) / float64(max(len(eod)-1, 1)) * float64(c.Width)
		fmt.Fprintf(&pts, "%.1f,%.1f ", x, y(b))
	}
	c.Points = strings.TrimSpace(pts.String())
	c.ShowZero, c.ZeroY = lo < 0 && hi > 0, y(0)
	c.Min, c.Max = money(lo), money(hi)
	return c, nil
}

// money formats minor units as major units with two decimals.
func money(m int64) string {
	sign := ""
	if m < 0 {
		sign, m = "-", -m
	}
	return fmt.Sprintf("%s%d.%02d", sign, m/100, m%100)
}

var fragment = template.Must(template.New("card").Parse(`<div class="card">
{{if not .Decided}}<p class="pending">No decision recorded for {{.ApplicationID}} yet.</p>{{else}}
<div class="head"><span class="outcome {{.Outcome}}" data-outcome="{{.Outcome}}">{{.Outcome}}</span>
<span>score <b data-score>{{.Score}}</b></span><span>PD {{.PD}}</span><span class="muted">decided {{.DecidedAt}} · {{.Versions}}</span></div>
<div class="cols"><div>
<h4>Reasons</h4>{{if .Reasons}}<ol class="reasons">{{range .Reasons}}<li data-reason="{{.Code}}"><b>{{.Code}}</b> {{.Text}} <span class="muted">({{.Feature}} = {{.Value}}{{if .Reference}}, {{.Reference}}{{end}})</span></li>{{end}}</ol>{{else}}<p class="muted">none</p>{{end}}
<h4>Policy rules</h4><table class="rules">{{range .Rules}}<tr data-rule="{{.Rule}}" class="{{if .Passed}}pass{{else}}fail{{end}}"><td>{{if .Passed}}✓{{else}}✗{{end}}</td><td>{{.Rule}}</td><td>{{.Actual}}</td><td class="muted">{{.Threshold}}</td></tr>{{end}}</table>
</div>{{with .Chart}}<div>
<h4>Combined daily balance{{if .Currency}} ({{.Currency}}){{end}}</h4>
<svg class="chart" role="img" aria-label="combined end-of-day balance {{.From}} to {{.To}}" width="{{.Width}}" height="{{.Height}}" viewBox="0 0 {{.Width}} {{.Height}}">
{{if .ShowZero}}<line x1="0" x2="{{.Width}}" y1="{{printf "%.1f" .ZeroY}}" y2="{{printf "%.1f" .ZeroY}}" stroke="#c00" stroke-dasharray="3 3"/>{{end}}
<polyline fill="none" stroke="#2f5fd0" stroke-width="1.5" points="{{.Points}}"/></svg>
<p class="muted">{{.From}} – {{.To}} · min {{.Min}} · max {{.Max}}</p></div>{{end}}</div>
{{end}}</div>`))

// pageHTML is the card's shell; the script fills #card.
const pageHTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Decision</title>
<style>
body{margin:0;font:13px/1.4 system-ui,sans-serif;color:#111;background:transparent}
body.dark{color:#eee}
.card{border:1px solid #c8cdd6;border-radius:6px;padding:8px 12px}
.head{display:flex;gap:16px;align-items:baseline;flex-wrap:wrap}
.outcome{font-weight:700;text-transform:uppercase;padding:1px 8px;border-radius:4px;background:#ddd;color:#111}
.outcome.approve{background:#bfe8c8}.outcome.decline{background:#f5c2c0}.outcome.refer{background:#f7e2a6}
.cols{display:flex;gap:24px;flex-wrap:wrap}.cols>div{flex:1;min-width:300px}
h4{margin:8px 0 4px}ol{margin:0;padding-left:20px}table{border-collapse:collapse}td{padding:0 8px 0 0}
tr.fail td:first-child{color:#c00}tr.pass td:first-child{color:#080}.muted{color:#777}
</style></head>
<body><div id="card"><p class="muted">Waiting for the workflow from the Web UI…</p></div>
<script src="/card.js"></script></body></html>
`

// cardJS speaks ui-server's iframe extension protocol (version 1): hello → welcome
// (instance id) → ready → context (the workflow) and theme; it then loads the decision
// and asks for the height it needs. Without a session it shows a login form whose token
// goes in a POST body. UI_ORIGIN is replaced with the UI's origin.
const cardJS = `"use strict";
(() => {
  const UI = UI_ORIGIN, ID = "decision-card", V = 1;
  let instance = null, workflow = null;
  const box = document.getElementById("card");
  if (window.parent === window) {
    box.textContent = "This is the decision card of the Temporal Web UI at " + UI +
      ": open a workflow there. (Opening this page once lets the browser accept its certificate.)";
    return;
  }
  const send = (m) => window.parent.postMessage(Object.assign({version: V, extensionId: ID}, m), UI);
  const resize = () => instance && send({type: "temporal-extension/resize", instanceId: instance,
    height: Math.ceil(document.documentElement.scrollHeight) + 2});
  const loginForm = () => {
    box.innerHTML = '<p>Decision card: paste the login token <code>underwriter dev</code> printed.</p>' +
      '<input id="token" type="password" autocomplete="off" size="34" aria-label="login token"> ' +
      '<button id="login" type="button">Log in</button> <span id="msg" class="muted"></span>';
    document.getElementById("login").addEventListener("click", async () => {
      const r = await fetch("/login", {method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/x-www-form-urlencoded"},
        body: new URLSearchParams({token: document.getElementById("token").value})});
      if (r.ok) { load(); } else { document.getElementById("msg").textContent = (await r.text()).trim(); }
    });
    resize();
  };
  const load = async () => {
    if (!workflow || !workflow.workflowId) return;
    try {
      const r = await fetch("/decision?workflow_id=" + encodeURIComponent(workflow.workflowId), {credentials: "same-origin"});
      if (r.status === 401) { loginForm(); return; }
      const body = await r.text();
      if (r.ok) { box.innerHTML = body; } else { box.textContent = body; box.className = "muted"; }
    } catch (e) {
      box.textContent = "could not load the decision: " + e;
    }
    resize();
  };
  window.addEventListener("message", (e) => {
    const m = e.data;
    if (e.source !== window.parent || e.origin !== UI || !m || m.version !== V || m.extensionId !== ID) return;
    if (m.type === "temporal-ui/welcome") {
      instance = m.instanceId;
      send({type: "temporal-extension/ready", instanceId: instance});
    } else if (m.instanceId !== instance) {
      return;
    } else if (m.type === "temporal-ui/context") {
      const wf = m.context && m.context.workflow;
      if (wf && (!workflow || wf.workflowId !== workflow.workflowId)) { workflow = wf; load(); }
    } else if (m.type === "temporal-ui/theme") {
      document.body.classList.toggle("dark", m.theme === "dark");
    }
  });
  send({type: "temporal-extension/hello"});
})();
`
