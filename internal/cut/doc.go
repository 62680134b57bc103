// Package cut is the published cut's contract, shared by the batch worker
// that writes cuts (internal/pipeline) and the allocator that reads them
// (internal/universe, internal/allocation, cmd/allocate): where everything
// lives in the store, the manifest that makes a cut exist, how tables are
// named, and how Parquet tables are written and read.
//
// It knows nothing of masking or validation rules, so the allocator links
// none of that code; TestLayering enforces it.
package cut
