/*
 * Root-cause check for patches/0001-DtlsTransport-bio-callback-return-value.patch
 * against the system's libssl only (no mediasoup worker involved).
 *
 * Why this exists: mediasoup's DtlsTransport puts a BIO_set_callback_ex()
 * callback on the mem BIO OpenSSL writes outgoing DTLS records into. Upstream
 * (3.27.1) returns 1 from it for every control call, so BIO_get_ktls_send()
 * on that BIO says "kernel TLS active"; a kTLS-enabled libssl (Debian's) then
 * leaves its record-layer write buffer unallocated and segfaults on the first
 * handshake record. This program runs a DTLS handshake over mem BIOs between
 * a "mediasoup" SSL (with the callback) and a peer, in both DTLS roles, once
 * with upstream's return logic and once with the patched one, each in a child
 * process so a crash is observed rather than suffered.
 *
 * Usage: test_dtls_bio_callback <cert.pem> <key.pem>
 * Exit status 0 iff the patched logic completes the handshake in both roles.
 * Upstream's result is printed for information (SIGSEGV expected with a
 * kTLS-enabled libssl, "completed" with a no-ktls one).
 */
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int patched_logic;

/* Same shape as mediasoup's onSslBioOut(); the write branch only drains the
 * BIO into the peer's input, like SendDtlsData() + BIO_reset(). */
static BIO *peer_in;

static long on_bio_out(BIO *bio, int op, const char *argp, size_t len, int argi,
                       long argl, int ret, size_t *processed)
{
    long result;

    (void)argi;
    (void)argl;
    (void)processed;

    if (patched_logic)
        result = (op & BIO_CB_RETURN) ? (long)ret : 1; /* patched */
    else
        result = (op == BIO_CB_RETURN) ? (long)ret : 1; /* upstream 3.27.1 */

    if (op == BIO_CB_WRITE && argp != NULL && len > 0) {
        BIO_write(peer_in, argp, (int)len);
        (void)BIO_reset(bio);
    }

    return result;
}

static void drain(BIO *from, BIO *to)
{
    char buf[16384];
    int n;

    while ((n = BIO_read(from, buf, sizeof(buf))) > 0)
        BIO_write(to, buf, n);
}

/* Returns 0 if the handshake completes on both sides. `ms_server`: the
 * callback side ("mediasoup") is the DTLS server (the usual browser case). */
static int handshake(const char *cert, const char *key, int ms_server)
{
    SSL_CTX *ms_ctx = SSL_CTX_new(DTLS_method());
    SSL_CTX *peer_ctx = SSL_CTX_new(DTLS_method());
    SSL_CTX *server_ctx = ms_server ? ms_ctx : peer_ctx;
    SSL *ms, *peer;
    BIO *ms_in, *ms_out, *peer_out;
    char buf[65536];
    int i;

    if (SSL_CTX_use_certificate_file(server_ctx, cert, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_use_PrivateKey_file(server_ctx, key, SSL_FILETYPE_PEM) != 1) {
        ERR_print_errors_fp(stderr);
        return 2;
    }
    /* As mediasoup: no MTU query, the MTU is set explicitly. */
    SSL_CTX_set_options(ms_ctx, SSL_OP_NO_QUERY_MTU);

    ms = SSL_new(ms_ctx);
    peer = SSL_new(peer_ctx);
    ms_in = BIO_new(BIO_s_mem());
    ms_out = BIO_new(BIO_s_mem());
    peer_in = BIO_new(BIO_s_mem());
    peer_out = BIO_new(BIO_s_mem());

    SSL_set_mtu(ms, 1350);
    DTLS_set_link_mtu(ms, 1350);
    BIO_set_callback_ex(ms_out, on_bio_out);
    SSL_set_bio(ms, ms_in, ms_out);
    SSL_set_bio(peer, peer_in, peer_out);

    if (ms_server) {
        SSL_set_accept_state(ms);
        SSL_set_connect_state(peer);
    } else {
        SSL_set_accept_state(peer);
        SSL_set_connect_state(ms);
    }
    SSL_do_handshake(ms); /* as DtlsTransport::Run() */

    for (i = 0; i < 10 && !(SSL_is_init_finished(ms) && SSL_is_init_finished(peer)); i++) {
        SSL_do_handshake(peer);
        drain(peer_out, ms_in);
        SSL_read(ms, buf, sizeof(buf)); /* as DtlsTransport::ProcessDtlsData() */
    }

    return SSL_is_init_finished(ms) && SSL_is_init_finished(peer) ? 0 : 1;
}

/* Runs handshake() in a child; returns a description, sets *ok. */
static const char *run(const char *cert, const char *key, int patched, int ms_server, int *ok)
{
    static char desc[64];
    int status;
    pid_t pid;

    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        patched_logic = patched;
        _exit(handshake(cert, key, ms_server));
    }
    waitpid(pid, &status, 0);

    *ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (WIFSIGNALED(status))
        snprintf(desc, sizeof(desc), "crashed (%s)", strsignal(WTERMSIG(status)));
    else if (*ok)
        snprintf(desc, sizeof(desc), "handshake completed");
    else
        snprintf(desc, sizeof(desc), "handshake NOT completed (exit %d)", WEXITSTATUS(status));

    return desc;
}

int main(int argc, char **argv)
{
    int failures = 0, ok, ms_server, patched;

    if (argc != 3) {
        fprintf(stderr, "usage: %s <cert.pem> <key.pem>\n", argv[0]);
        return 2;
    }

    printf("%s, kTLS %s\n", OpenSSL_version(OPENSSL_VERSION),
#ifdef OPENSSL_NO_KTLS
           "disabled (no-ktls)"
#else
           "enabled"
#endif
    );

    for (patched = 0; patched <= 1; patched++) {
        for (ms_server = 1; ms_server >= 0; ms_server--) {
            const char *desc = run(argv[1], argv[2], patched, ms_server, &ok);

            printf("%-8s callback logic, mediasoup as DTLS %s: %s\n",
                   patched ? "patched" : "upstream", ms_server ? "server" : "client", desc);
            if (patched && !ok)
                failures++;
        }
    }

    printf("%s\n", failures == 0 ? "OK" : "FAILED");

    return failures == 0 ? 0 : 1;
}
