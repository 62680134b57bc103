package reconcile

import (
	"bytes"
	"html/template"
)

// summaryHTML is the run's self-contained summary page: no script, no
// outside resources; worklists are linked relative to it.
func summaryHTML(r *Result, m *Manifest) ([]byte, error) {
	var buf bytes.Buffer
	err := summaryTmpl.Execute(&buf, struct {
		M     *Manifest
		Rules []*Rule
	}{m, r.Rules.Rules})
	return buf.Bytes(), err
}

var summaryTmpl = template.Must(template.New("summary").Funcs(template.FuncMap{
	"count": func(t MPIDTotal, rule string) int { return t.ByRule[rule] },
	"plus":  func(a, b int) int { return a + b },
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Reconciliation {{.M.ID}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.error td.sev{color:#a00;font-weight:bold}
.zero{color:#999}
</style></head><body>
<h1>Reconciliation {{.M.ID}}</h1>
<p id="totals">{{.M.Totals.Findings}} findings: {{.M.Totals.Errors}} errors, {{.M.Totals.Warnings}} warnings. Rules {{.M.Rules.Path}} version {{.M.Rules.Version}}.</p>
<h2>By rule</h2>
<table id="rule-table"><thead><tr><th>rule</th><th>kind</th><th>attribute</th><th>severity</th><th>findings</th></tr></thead><tbody>
{{range .M.Totals.ByRule}}<tr class="{{.Severity}}"><td>{{.Rule}}</td><td>{{.Kind}}</td><td>{{.Attribute}}</td><td class="sev">{{.Severity}}</td><td class="n{{if eq .Findings 0}} zero{{end}}">{{.Findings}}</td></tr>
{{end}}</tbody></table>
<h2>By participant</h2>
<table id="participant-table"><thead><tr><th>participant</th><th>findings</th>{{range .Rules}}<th>{{.Name}}</th>{{end}}<th>worklist</th></tr></thead><tbody>
{{range $t := .M.Totals.ByMPID}}<tr><td>{{$t.MPID}}</td><td class="n">{{$t.Findings}}</td>{{range $.Rules}}<td class="n">{{count $t .Name}}</td>{{end}}<td><a href="worklists/{{$t.MPID}}.csv">worklists/{{$t.MPID}}.csv</a></td></tr>
{{else}}<tr><td colspan="{{plus (len .Rules) 3}}">no findings: the participants' cuts agree</td></tr>
{{end}}</tbody></table>
<h2>Cuts read</h2>
<table id="source-table"><thead><tr><th>cut</th><th>MPID</th><th>version</th><th>as at</th></tr></thead><tbody>
{{range .M.Sources}}<tr><td>{{.Cut}}</td><td>{{.MPID}}</td><td class="n">{{.Version}}</td><td>{{.AsAt}}</td></tr>
{{end}}</tbody></table>
</body></html>
`))
