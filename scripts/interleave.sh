#!/usr/bin/env bash
# Time two commands in turn, A B A B …, so that the host's drifting speed
# hits both alike, and print each pair's ratios A/B and their medians.
#
#   scripts/interleave.sh PAIRS A_COMMAND B_COMMAND
#
# Each command is one string run by bash (reset its own outputs first, e.g.
# 'rm -rf W && cp -al S W && datacut run --store W --keep-raw'); it is timed
# as a whole process by /usr/bin/time: wall, CPU (user + sys), peak RSS.
# Their output is thrown away; their exit codes are printed, not acted on.
set -euo pipefail
if [ $# -ne 3 ]; then
	echo "usage: $0 PAIRS A_COMMAND B_COMMAND" >&2
	exit 2
fi
pairs=$1 a=$2 b=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
run() { # run NAME COMMAND: one timed run, its figures appended to $work/NAME
	/usr/bin/time -o "$work/t" -f '%e %U %S %M %x' bash -c "$2" >/dev/null 2>&1 || true
	tail -1 "$work/t" >>"$work/$1"
}
for i in $(seq "$pairs"); do
	run a "$a"
	run b "$b"
	paste -d' ' <(sed -n "${i}p" "$work/a") <(sed -n "${i}p" "$work/b") |
		awk -v i="$i" 'function r(x, y) { return y > 0 ? x / y : 0 } { printf "pair %d: A wall %.1f s cpu %.1f s rss %d MiB exit %d | B wall %.1f s cpu %.1f s rss %d MiB exit %d | A/B wall %.3f cpu %.3f\n",
			i, $1, $2 + $3, $4 / 1024, $5, $6, $7 + $8, $9 / 1024, $10, r($1, $6), r($2 + $3, $7 + $8) }'
done
paste -d' ' "$work/a" "$work/b" | awk '
	function median(v, n,   i, j, t) {
		for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j-1] > v[j]; j--) { t = v[j]; v[j] = v[j-1]; v[j-1] = t }
		return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
	}
	function r(x, y) { return y > 0 ? x / y : 0 }
	{ n++; w[n] = r($1, $6); c[n] = r($2 + $3, $7 + $8); aw[n] = $1; bw[n] = $6 }
	END { printf "medians of %d pairs: A wall %.1f s, B wall %.1f s; A/B wall %.3f, cpu %.3f\n", n, median(aw, n), median(bw, n), median(w, n), median(c, n) }'
