#!/usr/bin/env bash
# Prove that a change altered no output: build two versions, run both on the
# same synthetic market and compare every file they write, byte for byte.
#
#   scripts/samecheck.sh OLD_COMMIT [NEW_COMMIT_OR_DIR]     (NEW defaults to HEAD)
#
# NEW may be a commit or a work-tree directory (built as it is, uncommitted
# edits included). Sources are exported to a temporary directory, so no
# worktree or checkout is touched. Environment: MPANS (20000), FAULTS (0.01),
# SEED (1), DATACUT_MASK_KEY (a fixed test key), KEEP=1 keeps the work dir.
#
# Steps: `datacut synth` with both (outputs must match), one inbox copied
# (cp -a: the listing marker hashes mtimes) into a store per version, then
# `datacut run --keep-raw`, `allocate run --plan sit` and the national plan of
# cmd/allocate/testdata. Files may differ only in when they were made:
# "timings" of manifest.json / report.json, "finished" of receipt.json,
# "built", ages and publication times of reports/status.json, the date of an
# HTML page; anything else fails (exit 1). Audit records (audit/, named by
# time and a random part) are not compared.
#
# Releases before the solver fix (internal/solver, "visits asks in order") are
# deterministic on the national plan only with their residual-graph search
# visiting asks in sorted order (search.find ranged over a map, so a scarce
# plan picked other MPANs run to run): that loop is patched in an exported copy.
set -euo pipefail
[[ $# -ge 1 ]] || { sed -n '2,24p' "$0"; exit 2; }
repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
old=$1 new=${2:-HEAD}
work=$(mktemp -d /tmp/samecheck.XXXXXX)
[[ ${KEEP:-0} == 1 ]] && echo "work dir: $work" || trap 'rm -rf "$work"' EXIT
export DATACUT_MASK_KEY=${DATACUT_MASK_KEY:-000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f}  # the tests' key: a made-up key like %064x of a number is refused as weak
mpans=${MPANS:-20000} faults=${FAULTS:-0.01} seed=${SEED:-1}

# export SRC DEST: a commit via git archive, a directory as its files
# (tracked and untracked, not ignored; deleted files skipped).
export_src() {
	mkdir -p "$2"
	if [[ -d $1 ]]; then
		git -C "$1" ls-files -z -co --exclude-standard |
			tar -C "$1" --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -x -C "$2"
	else
		git -C "$repo" archive "$(git -C "$repo" rev-parse --verify "$1^{commit}")" | tar -x -C "$2"
	fi
}
# The deterministic-search patch (see above); prints whether it applied.
detpatch() {
	local f
	f=$(grep -rlF --include='*.go' 'for y := range s.flow[c] {' "$1/internal" | head -1)
	[[ -n $f ]] || { echo "nothing to patch (no map-ordered search: this version orders it itself)"; return; }
	python3 - "$f" <<-'EOF'
	import sys
	p = sys.argv[1]; s = open(p).read()
	a = "\t\t\tfor y := range s.flow[c] {\n"
	b = ("\t\t\tys := make([]int32, 0, len(s.flow[c]))\n\t\t\tfor y := range s.flow[c] {\n"
	     "\t\t\t\tys = append(ys, y)\n\t\t\t}\n"
	     "\t\t\tsort.Slice(ys, func(i, j int) bool { return ys[i] < ys[j] })\n\t\t\tfor _, y := range ys {\n")
	print(("patched " if s.count(a) == 1 else "NOT patched ") + p.split("/src-")[-1])
	if s.count(a) == 1: open(p, "w").write(s.replace(a, b))
	EOF
}
# run RC_FILE CMD...: exit 0 (clean) and 1 (data errors, shortfalls) are runs
# that completed; their code is kept so both versions can be compared on it.
run() {
	local f=$1 rc=0; shift
	"$@" >>"${f%.rc}.log" 2>&1 || rc=$?
	echo "$rc" >>"$f"
	((rc <= 1)) || { echo "FAILED ($rc): $* (log: ${f%.rc}.log)"; exit 3; }
}

for v in old new; do
	src=${!v}
	echo "== $v: $src"
	export_src "$src" "$work/src-$v"
	(cd "$work/src-$v" && go build -buildvcs=false -o "$work/bin-$v/" ./cmd/...)
	echo "   national-plan allocator: $(detpatch "$work/src-$v")"
	(cd "$work/src-$v" && go build -buildvcs=false -o "$work/bin-$v/allocate-det" ./cmd/allocate)
	"$work/bin-$v/datacut" synth --mpans "$mpans" --seed "$seed" --faults "$faults" --store "$work/synth-$v" >/dev/null
done
plan=$work/src-new/cmd/allocate/testdata/national.yaml
[[ -f $plan ]] || plan=$work/src-old/cmd/allocate/testdata/national.yaml

for v in old new; do
	b=$work/bin-$v s=$work/out-$v
	cp -a "$work/synth-old" "$s"
	run "$work/$v.rc" "$b/datacut" run --store "$s" --keep-raw
	run "$work/$v.rc" "$b/allocate" run --plan sit --store "$s"
	run "$work/$v.rc" "$b/allocate-det" run --plan "$plan" --store "$s"
	echo "== $v: exit codes (run, sit, national): $(tr '\n' ' ' <"$work/$v.rc")"
done

# Compare. Pairs: the two synth outputs, then the two stores.
n=0 same=0 expected=0
report=$work/differences
: >"$report"
# timeless FILE: the file without when it was made (see the head).
timeless() {
	case $1 in
	*/manifest.json | */report.json) jq -S 'del(.timings)' "$1" ;;
	*/receipt.json) jq -S 'del(.finished)' "$1" ;;
	*/reports/status.json) jq -S 'del(.built) | del(.. | .ageSeconds?, .published?)' "$1" ;;
	*.html) sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} UTC//g' "$1" ;;
	*) cat "$1" ;;
	esac
}
files() { (cd "$1" && find . -type f -not -path './audit/*' | sort); }
compare() { # DIR_A DIR_B LABEL
	local f
	diff <(files "$1") <(files "$2") |
		sed -n -e "s|^< \(.*\)|UNEXPECTED $3 \1: only in old|p" -e "s|^> \(.*\)|UNEXPECTED $3 \1: only in new|p" >>"$report" || true
	while read -r f; do
		[[ -f $2/$f ]] || continue
		n=$((n + 1))
		if cmp -s "$1/$f" "$2/$f"; then same=$((same + 1)); continue; fi
		if cmp -s <(timeless "$1/$f") <(timeless "$2/$f"); then
			expected=$((expected + 1))
			echo "expected   $3 $f: differs only in when it was made" >>"$report"
			continue
		fi
		echo "UNEXPECTED $3 $f: $(cmp "$1/$f" "$2/$f" 2>&1 | sed -n '1s/.* differ: /first difference at /p')" >>"$report"
	done < <(files "$1")
}
compare "$work/synth-old" "$work/synth-new" synth
compare "$work/out-old" "$work/out-new" store
cmp -s "$work/old.rc" "$work/new.rc" || echo "UNEXPECTED exit codes differ: $(paste -sd' ' "$work/old.rc") vs $(paste -sd' ' "$work/new.rc")" >>"$report"
bad=$(grep -c '^UNEXPECTED' "$report" || true)

echo "== $n files compared: $same identical, $expected differ only in when they were made, $((n - same - expected)) other; $bad unexpected difference(s)"
grep '^expected' "$report" | sed 's/: differs.*//' | awk '{print $3}' | sed 's|.*/||' | sort | uniq -c | sed 's/^/   times only: /' || true
grep '^UNEXPECTED' "$report" | head -50 || true
((bad <= 50)) || echo "   ... and $((bad - 50)) more"
((bad == 0)) && echo "SAME: no output changed" || { echo "DIFFERENT"; exit 1; }
