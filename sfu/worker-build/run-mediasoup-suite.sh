#!/usr/bin/env bash
# Runs mediasoup's own compiled Jest suite (node/lib/test/test-*.js, shipped in
# the npm package) against a mediasoup-worker binary, e.g. the one produced by
# build-worker.sh.
#
# Usage: run-mediasoup-suite.sh <mediasoup-package-dir> [extra jest args...]
#
#   Worker binary: $MEDIASOUP_WORKER_BIN, else mediasoup's default path
#   <mediasoup-package-dir>/worker/out/Release/mediasoup-worker.
#   Needs `node` (>= 22, the project's Node) on PATH, `openssl`, and the devDeps
#   jest, pick-port and werift-sctp installed in the project (resolved from
#   the mediasoup package upwards, then from this folder upwards).
#
# The suite reads two DTLS fixtures from <pkg>/node/lib/test/data/ (path fixed
# in test-Worker.js, not shipped in the package); they are generated there if
# missing. Nothing else in the package is written.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

die() { echo "[mediasoup-suite] ERROR: $*" >&2; exit 1; }

if [[ $# -lt 1 ]]; then
	echo "usage: $(basename "$0") <mediasoup-package-dir> [extra jest args...]" >&2
	exit 2
fi
[[ -f "$1/package.json" && -d "$1/node/lib/test" ]] ||
	die "'$1' is not a mediasoup package with its compiled test suite (node/lib/test)"
pkg="$(cd "$1" && pwd)"
shift

worker="${MEDIASOUP_WORKER_BIN:-$pkg/worker/out/Release/mediasoup-worker}"
rc=1
if [[ -f "$worker" && -x "$worker" ]]; then
	rc=0
	timeout 10 env -i "$worker" >/dev/null 2>&1 || rc=$?
fi
[[ "$rc" -eq 41 ]] ||
	die "no runnable mediasoup-worker at $worker (build it with build-worker.sh, or set MEDIASOUP_WORKER_BIN)"

command -v node >/dev/null || die "node is not on PATH"
command -v openssl >/dev/null || die "openssl is not on PATH (Debian package: openssl)"

# DTLS certificate + key used by test-Worker.js.
data="$pkg/node/lib/test/data"
if [[ ! -s "$data/dtls-cert.pem" || ! -s "$data/dtls-key.pem" ]]; then
	mkdir -p "$data"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-days 3650 -subj "/CN=mediasoup-test" \
		-keyout "$data/.dtls-key.pem.tmp" -out "$data/.dtls-cert.pem.tmp" 2>/dev/null ||
		die "could not generate the DTLS test fixtures in $data"
	mv -f "$data/.dtls-key.pem.tmp" "$data/dtls-key.pem"
	mv -f "$data/.dtls-cert.pem.tmp" "$data/dtls-cert.pem"
	echo "[mediasoup-suite] generated DTLS test fixtures in $data"
fi

jest="$(node -e '
	const path = require("node:path");
	const pj = require.resolve("jest/package.json", { paths: process.argv.slice(1) });
	console.log(path.join(path.dirname(pj), require(pj).bin.jest ?? require(pj).bin));
' "$pkg" "$here" 2>/dev/null)" ||
	die "jest not found (install the sfu devDependencies: jest, pick-port, werift-sctp)"

echo "[mediasoup-suite] mediasoup $(node -p 'require(process.argv[1]).version' "$pkg/package.json"), worker $worker, node $(node --version), jest $(node "$jest" --version) ($jest)"

export MEDIASOUP_PACKAGE_DIR="$pkg"
export MEDIASOUP_WORKER_BIN="$worker"
cd "$pkg" # (Jest 30 fails to start with cwd "/")
exec node "$jest" --config "$here/jest.mediasoup.config.cjs" "$@"
