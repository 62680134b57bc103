#!/usr/bin/env bash
# The project's test command: installs the pinned tools (MinIO, staticcheck),
# then runs go vet, staticcheck and every test with the race detector. Tests
# that need MinIO start their own server on 127.0.0.1 from ./bin/minio.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/tools.sh
export DATACUT_MINIO_BIN="$PWD/bin/minio"
export CI=${CI:-true} # strict: a test that needs a missing tool fails, never skips

echo "== go vet"
go vet ./...
echo "== staticcheck"
./bin/staticcheck ./...
echo "== generated files are fresh"
go test -count=1 -run 'TestCatalogueIsFresh' ./internal/dflow/
echo "== go test -race"
go test -race -count=1 -timeout 30m ./...
