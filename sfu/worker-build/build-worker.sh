#!/usr/bin/env bash
# Offline, reproducible build of the mediasoup 3.27.1 C++ worker from Debian
# bookworm packages (no GitHub / wrapdb / PyPI access needed).
#
# Usage: build-worker.sh <mediasoup-package-dir> <output-binary-path>
#
#   <mediasoup-package-dir>  unpacked mediasoup npm package (e.g.
#                            node_modules/mediasoup); only read, never written.
#   <output-binary-path>     where to put the mediasoup-worker binary.
#
# Idempotent: if <output-binary-path> already is a runnable worker (exits 41
# under `env -i`, i.e. "missing MEDIASOUP_VERSION") built by this same recipe
# (its stamp <output-binary-path>.recipe matches, see recipe_id below), nothing
# is done. Otherwise the package's worker/ sources are copied to a temporary
# directory, the patches of patches/ are applied to that copy, the upstream
# .wrap downloads are replaced by the local subprojects of this folder (Debian
# libraries + two small compatibility layers, see README.md), and Meson/Ninja
# build the worker with -j$(nproc).
#
# Environment: TMPDIR (where the temporary build directory goes),
# KEEP_BUILD_DIR=1 (keep it, for debugging).
set -euo pipefail

readonly EXPECTED_MEDIASOUP_VERSION="3.27.1"
# Build-time Debian packages (runtime: libuv1 libssl3 libsrtp2-1 libabsl20220623).
readonly REQUIRED_PACKAGES=(
	g++ pkg-config meson ninja-build python3 patch
	flatbuffers-compiler libflatbuffers-dev
	libssl-dev libuv1-dev libsrtp2-dev libabsl-dev
)

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

log() { echo "[build-worker] $*"; }
die() { echo "[build-worker] ERROR: $*" >&2; exit 1; }

# A runnable worker started without MEDIASOUP_VERSION exits with code 41.
is_runnable_worker() {
	local rc=0
	[[ -f "$1" && -x "$1" ]] || return 1
	timeout 10 env -i "$1" >/dev/null 2>&1 || rc=$?
	[[ "$rc" -eq 41 ]]
}

if [[ $# -ne 2 ]]; then
	echo "usage: $(basename "$0") <mediasoup-package-dir> <output-binary-path>" >&2
	exit 2
fi

pkg_dir="$1"
out="$2"
# Absolute, because the build below runs from inside the temporary directory:
# a relative <output-binary-path> used to be installed there and deleted with it.
[[ "$out" == /* ]] || out="$PWD/$out"

[[ -f "$pkg_dir/package.json" && -f "$pkg_dir/worker/meson.build" ]] ||
	die "'$pkg_dir' is not an unpacked mediasoup package (no package.json / worker/meson.build)"
pkg_dir="$(cd "$pkg_dir" && pwd)"

command -v python3 >/dev/null || die "python3 is required (Debian package: python3)"
version="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["version"])' "$pkg_dir/package.json")"
[[ "$version" == "$EXPECTED_MEDIASOUP_VERSION" ]] ||
	die "mediasoup $version found in $pkg_dir, but the shims in $here are verified for mediasoup $EXPECTED_MEDIASOUP_VERSION only"

# Identifies the recipe: this script, the subprojects and the patches. Stored
# next to the binary after a build. Why: a runnable worker built by an older
# recipe (e.g. before patches/0001, which fixes a SIGSEGV in the DTLS
# handshake) must not be kept as "up to date" just because it starts.
recipe_id() {
	(
		cd "$here"
		echo "mediasoup $EXPECTED_MEDIASOUP_VERSION"
		find build-worker.sh subprojects patches -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
	) | sha256sum | cut -d' ' -f1
}
recipe="$(recipe_id)"
stamp="$out.recipe"

if is_runnable_worker "$out"; then
	if [[ -f "$stamp" && "$(cat "$stamp")" == "$recipe" ]]; then
		log "up to date: $out (runnable mediasoup-worker $version, same recipe), nothing to do"
		exit 0
	fi
	log "$out is a runnable worker but was built by another recipe (stamp $stamp missing or different): rebuilding"
fi

missing=()
for pkg in "${REQUIRED_PACKAGES[@]}"; do
	status="$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)"
	[[ "$status" == ii* ]] || missing+=("$pkg")
done
if [[ ${#missing[@]} -gt 0 ]]; then
	die "missing Debian packages: ${missing[*]} (install with: apt-get install -y ${missing[*]})"
fi

start=$SECONDS
work="$(mktemp -d "${TMPDIR:-/tmp}/mediasoup-worker-build.XXXXXX")"
build_log="$work/build.log"
cleanup() {
	if [[ "${KEEP_BUILD_DIR:-0}" == 1 ]]; then
		log "kept build directory: $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

fail_with_log() {
	echo "[build-worker] ERROR: $1 failed; last lines of $build_log:" >&2
	tail -n 40 "$build_log" >&2 || true
	echo "[build-worker] (rerun with KEEP_BUILD_DIR=1 to keep $work for inspection)" >&2
	exit 1
}

# Runs a build step with its output in the log; while it runs, prints the
# Ninja progress ("[n/N]") every 20 seconds.
run_step() {
	local what="$1" pid last="" now next=$((SECONDS + 20))
	shift
	log "$what"
	echo "### $*" >>"$build_log"
	"$@" >>"$build_log" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		if (( SECONDS >= next )); then
			next=$((SECONDS + 20))
			now="$(grep -o '^\[[0-9]*/[0-9]*\]' "$build_log" | tail -n 1 || true)"
			if [[ -n "$now" && "$now" != "$last" ]]; then
				log "  $now ($((SECONDS - start)) s)"
				last="$now"
			fi
		fi
	done
	wait "$pid" || fail_with_log "$what"
}

log "building mediasoup-worker $version from Debian packages in $work"

# 1. Private copy of the worker sources (without any previous build output).
tar -C "$pkg_dir" --exclude=worker/out -cf - worker | tar -C "$work" -xf -
src="$work/worker"

# 2. Patch the private copy (never the package): patches/*.patch, in order,
#    each documented in its header and in README.md. --fuzz=0: a patch that
#    does not apply exactly fails the build instead of landing elsewhere.
for p in "$here"/patches/*.patch; do
	[[ -e "$p" ]] || continue
	log "applying $(basename "$p")"
	patch -d "$work" -p1 --forward --fuzz=0 --no-backup-if-mismatch <"$p" >>"$build_log" 2>&1 ||
		fail_with_log "patch $(basename "$p")"
done

# 3. Replace every upstream wrap (they download from GitHub/wrapdb) by the local
#    subprojects of this folder.
rm -f "$src"/subprojects/*.wrap
cp -R "$here/subprojects/." "$src/subprojects/"

# 4. Debian bookworm has Meson 1.0.1; the worker's meson.build only asks for
#    1.1.0 but builds fine with 1.0.
sed -i "s/meson_version: '>= 1.1.0'/meson_version: '>= 1.0.0'/" "$src/meson.build"
grep -q "meson_version: '>= 1.0.0'" "$src/meson.build" ||
	die "could not relax meson_version in worker/meson.build (unexpected content)"

# 5. Configure and build like upstream's tasks.py does for Release, but with
#    downloads forbidden.
cd "$src"
run_step "configuring (meson setup, release, offline)" \
	meson setup --buildtype release -Db_ndebug=true --wrap-mode=nodownload "$work/build"
run_step "generating FlatBuffers headers" \
	meson compile -C "$work/build" flatbuffers-generator
run_step "compiling mediasoup-worker with $(nproc) jobs" \
	meson compile -C "$work/build" -j "$(nproc)" mediasoup-worker

# 6. Install atomically, then check the result; then record the recipe.
mkdir -p "$(dirname "$out")"
tmp_out="$(dirname "$out")/.$(basename "$out").tmp.$$"
install -m 0755 "$work/build/mediasoup-worker" "$tmp_out"
mv -f "$tmp_out" "$out"

is_runnable_worker "$out" ||
	die "built binary $out does not behave as a mediasoup-worker (expected exit code 41 under env -i)"
echo "$recipe" >"$stamp"

log "done in $((SECONDS - start)) s: $out ($(du -h "$out" | cut -f1))"
