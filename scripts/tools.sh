#!/usr/bin/env bash
# Installs the pinned tools the tests need into ./bin, from the Go module
# proxy. Builds are cached in ~/.cache/mhhs-datacut (or $DATACUT_TOOL_CACHE)
# so a machine builds each version once; a missing cache just means a build.
set -euo pipefail
cd "$(dirname "$0")/.."

MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c   # github.com/minio/minio, Feb 2026
STATICCHECK_VERSION=v0.8.2                          # honnef.co/go/tools

cache=${DATACUT_TOOL_CACHE:-$HOME/.cache/mhhs-datacut}
case "$cache" in /*) ;; *) cache="$PWD/$cache" ;; esac # GOBIN must be absolute
mkdir -p bin "$cache"

# install_tool NAME PACKAGE VERSION: go install into the cache, link into ./bin.
install_tool() {
	local name=$1 pkg=$2 version=$3 dir="$cache/$1-$3"
	if [ ! -x "$dir/$name" ]; then
		echo "tools: building $name $version (once per machine; minio takes 5-10 minutes)" >&2
		rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
		if ! GOBIN="$dir.tmp" go install "$pkg@$version"; then
			echo "tools: building $name $version failed" >&2
			exit 3
		fi
		rm -rf "$dir" && mv "$dir.tmp" "$dir"
	fi
	ln -sf "$dir/$name" "bin/$name"
}

install_tool staticcheck honnef.co/go/tools/cmd/staticcheck "$STATICCHECK_VERSION"
install_tool minio github.com/minio/minio "$MINIO_VERSION"

# Headless Chromium, from Debian's packages, for the report's browser test.
if ! command -v chromium >/dev/null 2>&1; then
	echo "tools: installing chromium from Debian's packages (once per machine)" >&2
	sudo_cmd=""
	[ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
	if ! { $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >/dev/null; }; then
		echo "tools: installing chromium failed" >&2
		exit 3
	fi
fi
