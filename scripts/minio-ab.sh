#!/usr/bin/env bash
# Compare `datacut run` on the directory store with the same run against a
# local MinIO, interleaved pair by pair (this host's speed drifts).
#
#   scripts/minio-ab.sh BINARY PAIRS [MPANS]
#
# Starts the pinned ./bin/minio (scripts/tools.sh) on 127.0.0.1:9123 as the
# tests start it, with a fresh data directory; writes the synthetic market of
# MPANS MPANs (default 10^6) once to a directory and, per pair, into MinIO;
# times only `datacut run --keep-raw`. Prints one line per run: store, wall
# s, user s, sys s, peak KB.
set -euo pipefail
bin=$(realpath "$1") pairs=$2 mpans=${3:-1000000}
cd "$(dirname "$0")/.."
work=$(mktemp -d)
export DATACUT_MASK_KEY=${DATACUT_MASK_KEY:-000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f}
export DATACUT_S3_ENDPOINT=127.0.0.1:9123 DATACUT_S3_INSECURE=true DATACUT_S3_ACCESS_KEY=benchadmin DATACUT_S3_SECRET_KEY=benchadmin-secret
MINIO_ROOT_USER=$DATACUT_S3_ACCESS_KEY MINIO_ROOT_PASSWORD=$DATACUT_S3_SECRET_KEY MINIO_BROWSER=off MINIO_UPDATE=off MINIO_CI_CD=1 \
	./bin/minio server --quiet --address 127.0.0.1:9123 --console-address 127.0.0.1:9124 "$work/minio" >"$work/minio.log" 2>&1 &
server=$!
trap 'kill $server; rm -rf "$work"' EXIT
until curl -sf http://127.0.0.1:9123/minio/health/ready >/dev/null; do sleep 1; done
curl -sf --aws-sigv4 "aws:amz:us-east-1:s3" --user "$DATACUT_S3_ACCESS_KEY:$DATACUT_S3_SECRET_KEY" -X PUT http://127.0.0.1:9123/bench
"$bin" synth --mpans "$mpans" --seed 1 --store "$work/market" >/dev/null
for i in $(seq "$pairs"); do
	"$bin" synth --mpans "$mpans" --seed 1 --store "s3://bench/run$i" >/dev/null
	rm -rf "$work/dir" && cp -al "$work/market" "$work/dir"
	/usr/bin/time -o "$work/t" -f '%e %U %S %M' "$bin" run --store "$work/dir" --keep-raw >/dev/null 2>&1 || true
	echo "directory $(cat "$work/t")"
	/usr/bin/time -o "$work/t" -f '%e %U %S %M' "$bin" run --store "s3://bench/run$i" --keep-raw >/dev/null 2>&1 || true
	echo "minio $(cat "$work/t")"
done
