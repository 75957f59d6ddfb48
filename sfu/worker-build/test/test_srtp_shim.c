/*
 * Unit test of the libsrtp 3 facade (subprojects/libsrtp3) against Debian's
 * libsrtp 2.5. Uses the facade exactly like mediasoup's SrtpSession does
 * (opaque policy + setters, out-of-place protect, in-place unprotect) and
 * checks, for every profile mediasoup offers:
 *   - RTP round trips for sizes up to 9,000 bytes, including 1,352..1,500
 *     (a facade reserving SRTP_MAX_TRAILER_LEN would drop those), with an
 *     output buffer of exactly packet + 16 bytes and a canary after it;
 *   - exact trailer sizes (GCM 16, SHA1_80 10, SHA1_32 4; SRTCP tag + 4);
 *   - byte-identical output to plain libsrtp 2.5 usage (v2_reference.c);
 *   - the caller's input buffer is never modified;
 *   - SRTCP round trips, tamper and replay rejection, repeated transmission,
 *     srtp_stream_remove, error codes for bad parameters.
 * Run it with ../test-srtp-shim.sh.
 */
#include <srtp.h> /* the facade, as the worker includes it */

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "v2_reference.h"

static int failures = 0;
static int checks = 0;

#define CHECK(cond, ...)                                                      \
    do {                                                                      \
        checks++;                                                             \
        if (!(cond)) {                                                        \
            failures++;                                                       \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);              \
            fprintf(stderr, __VA_ARGS__);                                     \
            fputc('\n', stderr);                                              \
        }                                                                     \
    } while (0)

struct profile_case {
    const char *name;
    srtp_profile_t profile;
    size_t key_len, salt_len;
    size_t rtp_tag, rtcp_tag;
};

static const struct profile_case PROFILES[] = {
    { "AEAD_AES_256_GCM", srtp_profile_aead_aes_256_gcm, 32, 12, 16, 16 },
    { "AEAD_AES_128_GCM", srtp_profile_aead_aes_128_gcm, 16, 12, 16, 16 },
    { "AES_CM_128_HMAC_SHA1_80", srtp_profile_aes128_cm_sha1_80, 16, 14, 10, 10 },
    { "AES_CM_128_HMAC_SHA1_32", srtp_profile_aes128_cm_sha1_32, 16, 14, 4, 10 },
};

#define SSRC 0x11223344u
#define CANARY 0xA5
#define MAX_PKT 9000
#define ROOM 32 /* tail space + canary area */

/* Mirrors RTC::SrtpSession::SrtpSession(). */
static srtp_t make_session(const struct profile_case *pc, srtp_ssrc_type_t dir,
                           const uint8_t *master, size_t master_len)
{
    srtp_policy_t policy = NULL;
    srtp_ssrc_t ssrc = { dir, 0 };
    srtp_t session = NULL;

    if (srtp_policy_create(&policy) != srtp_err_status_ok)
        return NULL;
    if (srtp_policy_set_ssrc(policy, ssrc) ||
        srtp_policy_set_profile(policy, pc->profile) ||
        master_len != srtp_profile_get_master_key_length(pc->profile) +
                          srtp_profile_get_master_salt_length(pc->profile) ||
        srtp_policy_add_key(policy, master, pc->key_len, master + pc->key_len,
                            pc->salt_len, NULL, 0) ||
        srtp_policy_set_allow_repeat_tx(policy, true) ||
        srtp_policy_set_window_size(policy, 1024) ||
        srtp_create(&session, policy)) {
        srtp_policy_destroy(policy);
        return NULL;
    }
    srtp_policy_destroy(policy);

    return session;
}

static size_t make_rtp(uint8_t *buf, size_t len, uint16_t seq)
{
    size_t i;

    buf[0] = 0x80;
    buf[1] = 96;
    buf[2] = (uint8_t)(seq >> 8);
    buf[3] = (uint8_t)seq;
    buf[4] = 0; buf[5] = 0; buf[6] = (uint8_t)(seq >> 8); buf[7] = (uint8_t)seq;
    buf[8] = (uint8_t)(SSRC >> 24); buf[9] = (uint8_t)(SSRC >> 16);
    buf[10] = (uint8_t)(SSRC >> 8); buf[11] = (uint8_t)SSRC;
    for (i = 12; i < len; i++)
        buf[i] = (uint8_t)(i * 7 + seq);

    return len;
}

static size_t make_rtcp(uint8_t *buf, size_t len)
{
    size_t i, words = len / 4 - 1;

    /* Sender report header followed by filler (len multiple of 4). */
    buf[0] = 0x80;
    buf[1] = 200;
    buf[2] = (uint8_t)(words >> 8);
    buf[3] = (uint8_t)words;
    buf[4] = (uint8_t)(SSRC >> 24); buf[5] = (uint8_t)(SSRC >> 16);
    buf[6] = (uint8_t)(SSRC >> 8); buf[7] = (uint8_t)SSRC;
    for (i = 8; i < len; i++)
        buf[i] = (uint8_t)(i * 13);

    return len;
}

static int canary_ok(const uint8_t *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (p[i] != CANARY)
            return 0;
    return 1;
}

static void test_profile(const struct profile_case *pc)
{
    static const size_t sizes[] = { 13, 200, 1200, 1351, 1352, 1353, 1400, 1484, 1500, MAX_PKT };
    static uint8_t rtp[MAX_PKT + ROOM], orig[MAX_PKT + ROOM], out[MAX_PKT + ROOM],
        ref[MAX_PKT + ROOM], back[MAX_PKT + ROOM];
    uint8_t master[64];
    size_t i, n, len, master_len = pc->key_len + pc->salt_len;
    int ref_len, before = failures;
    srtp_t tx, rx;
    srtp_err_status_t err;

    for (i = 0; i < master_len; i++)
        master[i] = (uint8_t)(0x30 + i * 3 + pc->profile);

    CHECK(srtp_profile_get_master_key_length(pc->profile) == pc->key_len, "%s key len", pc->name);
    CHECK(srtp_profile_get_master_salt_length(pc->profile) == pc->salt_len, "%s salt len", pc->name);

    tx = make_session(pc, ssrc_any_outbound, master, master_len);
    rx = make_session(pc, ssrc_any_inbound, master, master_len);
    CHECK(tx != NULL && rx != NULL, "%s: session creation", pc->name);
    if (tx == NULL || rx == NULL)
        return;

    for (n = 0; n < sizeof(sizes) / sizeof(sizes[0]); n++) {
        uint16_t seq = (uint16_t)(100 + n);
        size_t rtp_len = make_rtp(rtp, sizes[n], seq);

        memcpy(orig, rtp, rtp_len);

        /* Protect out of place into a buffer of exactly rtp_len + 16. */
        memset(out, CANARY, sizeof(out));
        len = rtp_len + SRTP_MAX_TAG_LEN;
        err = srtp_protect(tx, rtp, rtp_len, out, &len, 0);
        CHECK(err == srtp_err_status_ok, "%s: protect %zu bytes: err %d", pc->name, rtp_len, err);
        if (err != srtp_err_status_ok)
            continue;
        CHECK(len == rtp_len + pc->rtp_tag, "%s: srtp len %zu for %zu", pc->name, len, rtp_len);
        CHECK(canary_ok(out + rtp_len + SRTP_MAX_TAG_LEN, ROOM - SRTP_MAX_TAG_LEN),
              "%s: wrote past the output capacity (%zu)", pc->name, rtp_len);
        CHECK(memcmp(rtp, orig, rtp_len) == 0, "%s: input modified (%zu)", pc->name, rtp_len);
        CHECK(memcmp(out + 12, orig + 12, rtp_len - 12) != 0 || rtp_len - 12 < 4,
              "%s: payload not encrypted (%zu)", pc->name, rtp_len);

        /* Same bytes as plain libsrtp 2.5 usage. */
        memcpy(ref, orig, rtp_len);
        ref_len = (int)rtp_len;
        CHECK(v2_reference_protect(pc->profile, master, pc->key_len, master + pc->key_len,
                                   pc->salt_len, 0, ref, &ref_len) == 0,
              "%s: reference protect", pc->name);
        CHECK((size_t)ref_len == len && memcmp(ref, out, len) == 0,
              "%s: output differs from libsrtp2 reference (%zu)", pc->name, rtp_len);

        /* Unprotect: in place for even cases (as the worker does), out of
         * place for odd ones. */
        if (n % 2 == 0) {
            memcpy(back, out, len);
            size_t back_len = len;
            err = srtp_unprotect(rx, back, len, back, &back_len);
            CHECK(err == srtp_err_status_ok && back_len == rtp_len &&
                      memcmp(back, orig, rtp_len) == 0,
                  "%s: in-place unprotect %zu: err %d len %zu", pc->name, rtp_len, err, back_len);
        } else {
            size_t back_len = len;
            err = srtp_unprotect(rx, out, len, back, &back_len);
            CHECK(err == srtp_err_status_ok && back_len == rtp_len &&
                      memcmp(back, orig, rtp_len) == 0,
                  "%s: out-of-place unprotect %zu: err %d len %zu", pc->name, rtp_len, err, back_len);
        }
    }

    /* Replay of the last packet is rejected; a tampered packet too. */
    {
        size_t rtp_len = make_rtp(rtp, 1400, 500), srtp_len, back_len;

        srtp_len = sizeof(out);
        CHECK(srtp_protect(tx, rtp, rtp_len, out, &srtp_len, 0) == srtp_err_status_ok,
              "%s: protect seq 500", pc->name);
        /* Repeated transmission (NACK without RTX) is allowed and identical. */
        len = sizeof(ref);
        CHECK(srtp_protect(tx, rtp, rtp_len, ref, &len, 0) == srtp_err_status_ok &&
                  len == srtp_len && memcmp(ref, out, len) == 0,
              "%s: repeated protect", pc->name);

        memcpy(back, out, srtp_len);
        back[srtp_len / 2] ^= 0x01;
        back_len = srtp_len;
        err = srtp_unprotect(rx, back, srtp_len, back, &back_len);
        CHECK(err == srtp_err_status_auth_fail, "%s: tampered packet: err %d", pc->name, err);

        memcpy(back, out, srtp_len);
        back_len = srtp_len;
        CHECK(srtp_unprotect(rx, back, srtp_len, back, &back_len) == srtp_err_status_ok,
              "%s: unprotect seq 500", pc->name);
        memcpy(back, out, srtp_len);
        back_len = srtp_len;
        err = srtp_unprotect(rx, back, srtp_len, back, &back_len);
        CHECK(err == srtp_err_status_replay_fail, "%s: replay: err %d", pc->name, err);
    }

    /* In-place protect (same buffer in and out). */
    {
        size_t rtp_len = make_rtp(rtp, 1400, 501), back_len;

        memcpy(orig, rtp, rtp_len);
        len = rtp_len + SRTP_MAX_TAG_LEN;
        err = srtp_protect(tx, rtp, rtp_len, rtp, &len, 0);
        CHECK(err == srtp_err_status_ok && len == rtp_len + pc->rtp_tag,
              "%s: in-place protect: err %d", pc->name, err);
        back_len = len;
        err = srtp_unprotect(rx, rtp, len, rtp, &back_len);
        CHECK(err == srtp_err_status_ok && back_len == rtp_len && memcmp(rtp, orig, rtp_len) == 0,
              "%s: in-place round trip: err %d", pc->name, err);
    }

    /* Capacity checks: exactly packet + 16 is enough, one byte less is not;
     * an MTU-sized (1,500) buffer takes a 1,484-byte packet. */
    {
        size_t rtp_len = make_rtp(rtp, 1484, 502);

        len = 1500;
        CHECK(srtp_protect(tx, rtp, rtp_len, out, &len, 0) == srtp_err_status_ok,
              "%s: 1484 bytes into a 1500-byte buffer", pc->name);
        len = rtp_len + SRTP_MAX_TAG_LEN - 1;
        CHECK(srtp_protect(tx, rtp, rtp_len, out, &len, 0) == srtp_err_status_buffer_small,
              "%s: too small protect buffer", pc->name);
        len = 100;
        CHECK(srtp_unprotect(rx, out, 1500, back, &len) == srtp_err_status_buffer_small,
              "%s: too small unprotect buffer", pc->name);
    }

    /* SRTCP. */
    {
        static const size_t rtcp_sizes[] = { 28, 400, 1400 };
        for (n = 0; n < 3; n++) {
            size_t rtcp_len = make_rtcp(rtp, rtcp_sizes[n]), back_len;

            memcpy(orig, rtp, rtcp_len);
            memset(out, CANARY, sizeof(out));
            len = rtcp_len + SRTP_MAX_TAG_LEN + 4;
            err = srtp_protect_rtcp(tx, rtp, rtcp_len, out, &len, 0);
            CHECK(err == srtp_err_status_ok && len == rtcp_len + pc->rtcp_tag + 4,
                  "%s: protect_rtcp %zu: err %d len %zu", pc->name, rtcp_len, err, len);
            CHECK(canary_ok(out + rtcp_len + SRTP_MAX_TAG_LEN + 4, ROOM - SRTP_MAX_TAG_LEN - 4),
                  "%s: SRTCP wrote past the output capacity", pc->name);
            CHECK(memcmp(rtp, orig, rtcp_len) == 0, "%s: RTCP input modified", pc->name);

            /* Only the first SRTCP packet (index 0) matches a fresh session. */
            if (n == 0) {
                memcpy(ref, orig, rtcp_len);
                ref_len = (int)rtcp_len;
                CHECK(v2_reference_protect(pc->profile, master, pc->key_len, master + pc->key_len,
                                           pc->salt_len, 1, ref, &ref_len) == 0 &&
                          (size_t)ref_len == len && memcmp(ref, out, len) == 0,
                      "%s: SRTCP differs from libsrtp2 reference", pc->name);
            }

            back_len = len;
            err = srtp_unprotect_rtcp(rx, out, len, out, &back_len);
            CHECK(err == srtp_err_status_ok && back_len == rtcp_len &&
                      memcmp(out, orig, rtcp_len) == 0,
                  "%s: unprotect_rtcp %zu: err %d", pc->name, rtcp_len, err);
        }
        len = 28 + SRTP_MAX_TAG_LEN + 3;
        CHECK(srtp_protect_rtcp(tx, rtp, 28, out, &len, 0) == srtp_err_status_buffer_small,
              "%s: too small SRTCP buffer", pc->name);
    }

    /* srtp_stream_remove takes the SSRC in network byte order. */
    CHECK(srtp_stream_remove(tx, htonl(SSRC)) == srtp_err_status_ok, "%s: stream_remove", pc->name);
    CHECK(srtp_stream_remove(tx, htonl(SSRC)) != srtp_err_status_ok,
          "%s: second stream_remove must fail", pc->name);

    CHECK(srtp_dealloc(tx) == srtp_err_status_ok && srtp_dealloc(rx) == srtp_err_status_ok,
          "%s: dealloc", pc->name);

    printf("%-24s %s (RTP tag %zu, SRTCP tag %zu + 4)\n", pc->name,
           failures == before ? "ok" : "FAILED", pc->rtp_tag, pc->rtcp_tag);
}

static void test_policy_errors(void)
{
    uint8_t key[64] = { 1 };
    srtp_policy_t policy = NULL;
    srtp_t session = NULL;
    srtp_ssrc_t ssrc = { ssrc_any_outbound, 0 };

    CHECK(srtp_policy_create(&policy) == srtp_err_status_ok, "policy_create");
    CHECK(srtp_policy_set_ssrc(policy, ssrc) == srtp_err_status_ok, "set_ssrc");
    /* Key before profile, and creating without a key, are refused. */
    CHECK(srtp_policy_add_key(policy, key, 16, key + 16, 14, NULL, 0) == srtp_err_status_bad_param,
          "add_key before set_profile");
    CHECK(srtp_create(&session, policy) == srtp_err_status_bad_param, "create without key");
    CHECK(srtp_policy_set_profile(policy, srtp_profile_aes128_cm_sha1_80) == srtp_err_status_ok,
          "set_profile");
    CHECK(srtp_policy_add_key(policy, key, 16, key + 16, 12, NULL, 0) == srtp_err_status_bad_param,
          "wrong salt length");
    CHECK(srtp_policy_add_key(policy, key, 16, key + 16, 14, key, 4) == srtp_err_status_bad_param,
          "MKI unsupported");
    CHECK(srtp_policy_set_window_size(policy, 10) == srtp_err_status_bad_param, "window 10");
    CHECK(srtp_policy_set_window_size(policy, 0x8000) == srtp_err_status_bad_param, "window 32768");
    CHECK(srtp_policy_set_profile(policy, srtp_profile_reserved) != srtp_err_status_ok,
          "reserved profile");
    CHECK(srtp_policy_add_key(policy, key, 16, key + 16, 14, NULL, 0) == srtp_err_status_ok,
          "add_key");
    CHECK(srtp_policy_add_key(policy, key, 16, key + 16, 14, NULL, 0) == srtp_err_status_bad_param,
          "second key");
    CHECK(srtp_create(&session, policy) == srtp_err_status_ok, "create");
    srtp_policy_destroy(policy);
    CHECK(srtp_protect(session, key, 20, key, NULL, 0) == srtp_err_status_bad_param, "NULL len");
    {
        uint8_t pkt[64] = { 0x80, 96 };
        size_t len = sizeof(pkt);
        CHECK(srtp_protect(session, pkt, 20, pkt, &len, 1) == srtp_err_status_bad_mki, "mki index");
    }
    srtp_dealloc(session);
    printf("%-24s %s\n", "policy/parameter errors", "done");
}

int main(void)
{
    size_t i;

    printf("libsrtp runtime: %s\n", srtp_get_version_string());
    if (srtp_init() != srtp_err_status_ok) {
        fprintf(stderr, "srtp_init() failed\n");
        return 1;
    }

    for (i = 0; i < sizeof(PROFILES) / sizeof(PROFILES[0]); i++)
        test_profile(&PROFILES[i]);
    test_policy_errors();

    srtp_shutdown();

    printf("%d checks, %d failures\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
