// Package mask will hold the DPIA masking methods: keyed format-preserving
// encryption for identifiers and deterministic fakes for personal data, so
// that masked values join across participants. Planned work; nothing here
// masks data yet.
package mask
