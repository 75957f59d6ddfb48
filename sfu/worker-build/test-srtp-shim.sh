#!/usr/bin/env bash
# Builds and runs test/test_srtp_shim.c: the libsrtp 3 facade used by the
# mediasoup worker build (subprojects/libsrtp3) against Debian's libsrtp 2.5,
# with protect/unprotect round trips of up to 9,000-byte packets for every SRTP
# profile mediasoup offers. Needs: gcc (or $CC), pkg-config, libsrtp2-dev.
# Usage: test-srtp-shim.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cc="${CC:-cc}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# shellcheck disable=SC2046 # pkg-config output must word-split
"$cc" -std=c11 -O2 -Wall -Wextra -Werror \
	-I "$here/subprojects/libsrtp3/include" -I "$here/test" \
	"$here/test/test_srtp_shim.c" \
	"$here/test/v2_reference.c" \
	"$here/subprojects/libsrtp3/src/srtp3_shim.c" \
	$(pkg-config --cflags --libs libsrtp2) \
	-o "$tmp/test_srtp_shim"

"$tmp/test_srtp_shim"
