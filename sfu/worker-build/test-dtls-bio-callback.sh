#!/usr/bin/env bash
# Builds and runs test/test_dtls_bio_callback.c: proves, against the system's
# libssl alone, why patches/0001-DtlsTransport-bio-callback-return-value.patch
# exists (upstream's BIO callback return logic crashes a kTLS-enabled libssl
# in the DTLS handshake) and that the patched logic completes the handshake
# with mediasoup as DTLS server and as DTLS client. Needs: gcc (or $CC),
# pkg-config, libssl-dev, openssl (CLI, for a throwaway certificate).
# Usage: test-dtls-bio-callback.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cc="${CC:-cc}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# _DEFAULT_SOURCE: strsignal().
# shellcheck disable=SC2046 # pkg-config output must word-split
"$cc" -std=c11 -D_DEFAULT_SOURCE -O2 -Wall -Wextra -Werror \
	"$here/test/test_dtls_bio_callback.c" \
	$(pkg-config --cflags --libs openssl) \
	-o "$tmp/test_dtls_bio_callback"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$tmp/key.pem" -out "$tmp/cert.pem" -days 1 -subj /CN=dtls-test 2>/dev/null

"$tmp/test_dtls_bio_callback" "$tmp/cert.pem" "$tmp/key.pem"
