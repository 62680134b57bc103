#!/usr/bin/env bash
# Compare datacut binaries on the same inbox, runs interleaved so that the
# host's drifting speed hits every binary alike.
#
#   scripts/abrun.sh STORE RUNS BINARY...
#
# STORE is a store holding an inbox (from `datacut synth`); it is copied
# afresh for every run and left untouched. Prints, per binary, in run order, the
# wall times, CPU seconds (user+sys) and peak RSS of `datacut run --keep-raw`.
set -euo pipefail
src=$1 runs=$2
shift 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export DATACUT_MASK_KEY=${DATACUT_MASK_KEY:-000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f}  # the tests' key: a made-up key like %064x of a number is refused as weak
for i in $(seq "$runs"); do
	for b in "$@"; do
		rm -rf "$work/store" && cp -r "$src" "$work/store"
		/usr/bin/time -o "$work/t" -f '%e %U %S %M' "$b" run --store "$work/store" --keep-raw >/dev/null 2>&1
		echo "$b $(tail -1 "$work/t")" >>"$work/all"
	done
done
for b in "$@"; do
	awk -v b="$b" '$1 == b { w = w " " $2; c = c " " sprintf("%.1f", $3 + $4); m = m " " int($5 / 1024) }
		END { print b ": wall" w " s | cpu" c " s | rss" m " MB" }' "$work/all"
done
