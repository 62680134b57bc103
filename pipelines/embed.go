// Package pipelines embeds the declarative definitions in this directory
// (DPIA rules, EES columns, pipelines, plans, the programme register) so the
// binary carries its defaults; commands take a directory flag to use edited
// copies instead.
package pipelines

import "embed"

// FS holds every YAML file of this directory.
//
//go:embed *.yaml cuts/*.yaml plans/*.yaml
var FS embed.FS
