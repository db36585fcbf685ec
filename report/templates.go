package report

import "html/template"

// style is the pages' one stylesheet, inlined: the reports make no external request.
const style = `
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:62em;color:#212121;padding:0 1em}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;margin-top:1.8em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0;font-size:.92em}td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f5f5f5}td.num{text-align:right;font-variant-numeric:tabular-nums}
.outcome{display:inline-block;padding:.15em .6em;border-radius:.3em;color:#fff;font-weight:600}
.approve{background:#2e7d32}.decline{background:#c62828}.refer{background:#f9a825;color:#000}.expired,.withdrawn{background:#757575}
.fail{color:#c62828;font-weight:600}.pass{color:#2e7d32}.flag{background:#ffebee}.warn{background:#fff8e1}
img.chart{display:block;max-width:100%;height:auto;margin:.6em 0;border:1px solid #eee}
.note{background:#fff8e1;border-left:4px solid #f9a825;padding:.4em .8em}
code{font-size:.9em}
`

var decisionTmpl = template.Must(template.New("decision").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>Decision report: {{.V.In.ApplicationID}}</title><style>` + style + `</style></head>
<body>
<h1>Decision report: application <code data-field="application_id">{{.V.In.ApplicationID}}</code></h1>
<p>Lender <code>{{.V.In.Lender}}</code>. Made from the stored decision row and its frozen snapshot; nothing was recomputed by current scoring code.</p>
<table>
<tr><th>Outcome</th><td><span class="outcome {{.D.Outcome}}" data-field="outcome">{{.D.Outcome}}</span></td></tr>
<tr><th>Score</th><td class="num" data-field="score">{{.Score}}</td></tr>
<tr><th>Probability of default</th><td class="num" data-field="pd">{{.PD}}</td></tr>
<tr><th>Amount applied for</th><td class="num" data-field="amount">{{.Amount}}</td></tr>
<tr><th>Term</th><td class="num" data-field="term_months">{{.V.In.TermMonths}} months</td></tr>
<tr><th>Decided at</th><td>{{.D.DecidedAt.UTC.Format "2006-01-02 15:04:05 UTC"}}</td></tr>
<tr><th>Model / policy / feature set</th><td><code>{{.D.ModelVersion}}</code> / <code>{{.D.PolicyVersion}}</code> / <code>{{.D.FeatureSetVersion}}</code></td></tr>
<tr><th>Reason code map</th><td><code>{{.D.ReasonCodeMapVersion}}</code></td></tr>
<tr><th>Snapshot</th><td>{{with .D.SnapshotID}}#{{.}}{{end}} content hash <code data-field="content_hash">{{with .D.ContentHash}}{{.}}{{end}}</code>{{with .D.AsOf}}, balances as of {{.UTC.Format "2006-01-02 15:04 UTC"}}{{end}}</td></tr>
<tr><th>Build</th><td><code>{{.D.BuildVersion}}</code>{{with .D.DeploymentVersion}} (worker <code>{{.}}</code>){{end}}</td></tr>
</table>
{{range .V.Notes}}<p class="note">{{.}}</p>{{end}}

<h2>Reasons</h2>
{{if .V.Reasons}}<table id="reasons"><tr><th>Code</th><th>Reason</th><th>Applicant's value</th><th>Threshold or best range</th><th>Points lost</th></tr>
{{range .V.Reasons}}<tr data-reason="{{.Code}}"><td><code>{{.Code}}</code></td><td>{{.Text}}</td><td class="num">{{.Value}}</td><td>{{.Reference}}</td><td class="num">{{if .PointsLost}}{{printf "%.0f" .PointsLost}}{{else}}–{{end}}</td></tr>
{{end}}</table>{{else}}<p>No adverse-action reasons: the application was not declined or referred for a reason of the applicant's.</p>{{end}}

<h2>Policy rules <small>({{len .V.Rules}} rules, <span data-field="failed_rules">{{.Failed}}</span> failed)</small></h2>
{{if .V.Rules}}<table id="rules"><tr><th>Rule</th><th>Value</th><th>Fails when</th><th>Result</th><th>On failure</th></tr>
{{range .V.Rules}}<tr data-rule="{{.Rule}}"><td><code>{{.Rule}}</code>{{if .Operational}} <small>(data)</small>{{end}}</td><td class="num">{{.Actual}}</td><td>{{.Threshold}}</td><td>{{if .Passed}}<span class="pass">passed</span>{{else}}<span class="fail">failed</span>{{end}}</td><td>{{.Action}}</td></tr>
{{end}}</table>{{else}}<p>No policy rules were evaluated.</p>{{end}}

{{if .V.Points}}<h2>Scorecard</h2>
<table id="points"><tr><th>Characteristic</th><th>Feature</th><th>Value</th><th>Bin</th><th>Points</th><th>Maximum</th></tr>
{{range .V.Points}}<tr><td><code>{{.Code}}</code></td><td><code>{{.Feature}}</code></td><td class="num">{{.Value}}</td><td>{{.Bin}}</td><td class="num">{{.Points}}</td><td class="num">{{.MaxPoints}}</td></tr>
{{end}}</table>{{end}}

<h2>Charts</h2>
{{range .Charts}}<img class="chart" id="chart-{{.Name}}" alt="{{.Alt}}" src="{{.Src}}">
{{else}}<p>No charts: the decision has no snapshot or features to draw.</p>{{end}}
</body></html>
`))
