package status

import (
	_ "embed"
	"html/template"
	"io"
	"time"
)

//go:embed status.html.tmpl
var pageTemplate string

var page = template.Must(template.New("status").Parse(pageTemplate))

// WriteHTML writes the rows as one self-contained page (no outside file,
// script or font): the table, and chips counting rows by state that filter
// it. Cells hold names, ids and counts from manifests and the register.
func WriteHTML(w io.Writer, rows []Row, register string, now time.Time) error {
	return page.Execute(w, struct {
		Rows      []Row
		Register  string
		Generated string
	}{rows, register, now.UTC().Format("2006-01-02 15:04 UTC")})
}
