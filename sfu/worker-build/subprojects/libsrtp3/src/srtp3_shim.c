/*
 * Implementation of the libsrtp 3 subset used by mediasoup 3.27.1 on top of
 * Debian's libsrtp 2.5 (see include/srtp.h for why this exists).
 *
 * Differences bridged here:
 *  - Policy: libsrtp 3 has an opaque policy filled by setters; libsrtp 2.5
 *    takes a plain srtp_policy_t struct whose crypto policies come from
 *    srtp_crypto_policy_set_from_profile_for_rtp/_rtcp() and whose key is a
 *    single "master key || master salt" buffer.
 *  - Buffers: libsrtp 3 reads the input and writes a separate output buffer
 *    (size_t lengths, output capacity checked); libsrtp 2.5 works in place
 *    with int lengths and appends its trailer after the packet. We copy the
 *    input to the output buffer, then run libsrtp 2.5 in place there, so the
 *    caller's input is never modified.
 *  - Trailer room: only what libsrtp 2.5 really appends without MKI is
 *    required: the auth tag (at most SRTP_MAX_TAG_LEN = 16 bytes for every
 *    profile: GCM 16, HMAC-SHA1-80 10, HMAC-SHA1-32 4) plus, for SRTCP, the
 *    4-byte E-flag/index word. Do NOT reserve SRTP_MAX_TRAILER_LEN (144,
 *    includes the 128-byte maximum MKI): with an MTU-sized output buffer that
 *    would reject RTP packets above ~1,352 bytes.
 */
#include <srtp2/srtp.h>

#include "ms_srtp3_shim.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Bytes libsrtp 2.5 appends (no MKI): auth tag, plus the SRTCP index. */
#define RTP_TRAILER_ROOM ((size_t)SRTP_MAX_TAG_LEN)
#define RTCP_TRAILER_ROOM ((size_t)SRTP_MAX_TAG_LEN + 4u)

struct ms_srtp3_policy {
    srtp_policy_t v2;                      /* what srtp_create() gets */
    unsigned char key[SRTP_MAX_KEY_LEN];   /* master key || master salt */
    srtp_profile_t profile;                /* srtp_profile_reserved = unset */
    bool has_key;
};

srtp_err_status_t ms_srtp3_policy_create(struct ms_srtp3_policy **policy)
{
    struct ms_srtp3_policy *p;

    if (policy == NULL)
        return srtp_err_status_bad_param;

    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return srtp_err_status_alloc_fail;

    p->v2.ssrc.type = ssrc_undefined;
    p->v2.key = p->key;
    p->profile = srtp_profile_reserved;
    *policy = p;

    return srtp_err_status_ok;
}

void ms_srtp3_policy_destroy(struct ms_srtp3_policy *policy)
{
    if (policy == NULL)
        return;

    /* Do not leave key material in freed memory. */
    memset(policy->key, 0, sizeof(policy->key));
    free(policy);
}

srtp_err_status_t ms_srtp3_policy_set_profile(struct ms_srtp3_policy *policy,
                                              srtp_profile_t profile)
{
    srtp_err_status_t err;

    if (policy == NULL || policy->has_key)
        return srtp_err_status_bad_param;

    err = srtp_crypto_policy_set_from_profile_for_rtp(&policy->v2.rtp, profile);
    if (err != srtp_err_status_ok)
        return err;

    /* For *_32 profiles this picks an 80-bit SRTCP tag, as RFC 5764 wants. */
    err = srtp_crypto_policy_set_from_profile_for_rtcp(&policy->v2.rtcp, profile);
    if (err != srtp_err_status_ok)
        return err;

    policy->profile = profile;

    return srtp_err_status_ok;
}

srtp_err_status_t ms_srtp3_policy_set_ssrc(struct ms_srtp3_policy *policy,
                                           srtp_ssrc_t ssrc)
{
    if (policy == NULL)
        return srtp_err_status_bad_param;

    policy->v2.ssrc = ssrc;

    return srtp_err_status_ok;
}

srtp_err_status_t ms_srtp3_policy_add_key(struct ms_srtp3_policy *policy,
                                          const uint8_t *key, size_t key_len,
                                          const uint8_t *salt, size_t salt_len,
                                          const uint8_t *mki, size_t mki_len)
{
    /* One key per policy and no MKI: all mediasoup uses. */
    if (policy == NULL || key == NULL || salt == NULL || policy->has_key)
        return srtp_err_status_bad_param;
    if (mki != NULL || mki_len != 0)
        return srtp_err_status_bad_param;

    /* The profile must be set first, so the lengths can be checked. */
    if (policy->profile == srtp_profile_reserved)
        return srtp_err_status_bad_param;
    if (key_len != srtp_profile_get_master_key_length(policy->profile) ||
        salt_len != srtp_profile_get_master_salt_length(policy->profile) ||
        key_len + salt_len > sizeof(policy->key))
        return srtp_err_status_bad_param;

    memcpy(policy->key, key, key_len);
    memcpy(policy->key + key_len, salt, salt_len);
    policy->has_key = true;

    return srtp_err_status_ok;
}

srtp_err_status_t ms_srtp3_policy_set_window_size(struct ms_srtp3_policy *policy,
                                                  size_t window_size)
{
    /* Same bounds libsrtp enforces (0 selects the default of 128). */
    if (policy == NULL ||
        (window_size != 0 && (window_size < 64 || window_size >= 0x8000)))
        return srtp_err_status_bad_param;

    policy->v2.window_size = (unsigned long)window_size;

    return srtp_err_status_ok;
}

srtp_err_status_t ms_srtp3_policy_set_allow_repeat_tx(struct ms_srtp3_policy *policy,
                                                      bool allow)
{
    if (policy == NULL)
        return srtp_err_status_bad_param;

    policy->v2.allow_repeat_tx = allow ? 1 : 0;

    return srtp_err_status_ok;
}

srtp_err_status_t ms_srtp3_create(srtp_t *session,
                                  const struct ms_srtp3_policy *policy)
{
    if (session == NULL || policy == NULL || !policy->has_key ||
        policy->v2.ssrc.type == ssrc_undefined)
        return srtp_err_status_bad_param;

    /* libsrtp 2.5 derives the session keys here, so the policy (and its key
     * buffer) may be destroyed right after, as libsrtp 3 allows. */
    return srtp_create(session, &policy->v2);
}

srtp_err_status_t ms_srtp3_stream_remove(srtp_t session, uint32_t ssrc)
{
    /* Same semantics as libsrtp 2.5's srtp_remove_stream (network order). */
    return srtp_remove_stream(session, ssrc);
}

/* libsrtp 2.5 in-place operation: (*fn)(session, buffer, &int_len). */
typedef srtp_err_status_t (*v2_inplace_fn)(srtp_t, void *, int *);

/* Copy `in` into `out` (unless the same buffer) and run `fn` there. `room` is
 * how many bytes `fn` may append beyond in_len; *out_len is the capacity of
 * `out` on entry and the result length on success. */
static srtp_err_status_t run_v2(v2_inplace_fn fn, srtp_t session,
                                const uint8_t *in, size_t in_len,
                                uint8_t *out, size_t *out_len, size_t room)
{
    srtp_err_status_t err;
    int len;

    if (session == NULL || in == NULL || out == NULL || out_len == NULL)
        return srtp_err_status_bad_param;
    if (in_len > (size_t)INT_MAX - room)
        return srtp_err_status_bad_param;
    if (*out_len < in_len + room)
        return srtp_err_status_buffer_small;

    if (out != in)
        memmove(out, in, in_len);

    len = (int)in_len;
    err = fn(session, out, &len);
    if (err != srtp_err_status_ok)
        return err;

    *out_len = (size_t)len;

    return srtp_err_status_ok;
}

srtp_err_status_t ms_srtp3_protect(srtp_t session,
                                   const uint8_t *rtp, size_t rtp_len,
                                   uint8_t *srtp, size_t *srtp_len,
                                   size_t mki_index)
{
    if (mki_index != 0)
        return srtp_err_status_bad_mki;

    return run_v2(srtp_protect, session, rtp, rtp_len, srtp, srtp_len,
                  RTP_TRAILER_ROOM);
}

srtp_err_status_t ms_srtp3_unprotect(srtp_t session,
                                     const uint8_t *srtp, size_t srtp_len,
                                     uint8_t *rtp, size_t *rtp_len)
{
    /* Unprotect only shrinks the packet: no extra room needed. */
    return run_v2(srtp_unprotect, session, srtp, srtp_len, rtp, rtp_len, 0);
}

srtp_err_status_t ms_srtp3_protect_rtcp(srtp_t session,
                                        const uint8_t *rtcp, size_t rtcp_len,
                                        uint8_t *srtcp, size_t *srtcp_len,
                                        size_t mki_index)
{
    if (mki_index != 0)
        return srtp_err_status_bad_mki;

    return run_v2(srtp_protect_rtcp, session, rtcp, rtcp_len, srtcp, srtcp_len,
                  RTCP_TRAILER_ROOM);
}

srtp_err_status_t ms_srtp3_unprotect_rtcp(srtp_t session,
                                          const uint8_t *srtcp, size_t srtcp_len,
                                          uint8_t *rtcp, size_t *rtcp_len)
{
    return run_v2(srtp_unprotect_rtcp, session, srtcp, srtcp_len, rtcp, rtcp_len, 0);
}
