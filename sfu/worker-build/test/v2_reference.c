/*
 * Reference encryption straight through libsrtp 2.5's own API (plain policy
 * struct, in-place protect), used by test_srtp_shim.c to check that the
 * libsrtp 3 facade configures sessions identically (same keys, same profile):
 * both must produce byte-identical SRTP/SRTCP output for the same input.
 * Kept in its own translation unit because the v2 and v3 headers clash.
 */
#include <srtp2/srtp.h>

#include <stdint.h>
#include <string.h>

#include "v2_reference.h"

int v2_reference_protect(int profile, const uint8_t *key, size_t key_len,
                         const uint8_t *salt, size_t salt_len, int rtcp,
                         uint8_t *buf, int *len)
{
    srtp_policy_t policy;
    unsigned char master[SRTP_MAX_KEY_LEN];
    srtp_t session = NULL;
    srtp_err_status_t err;

    if (key_len + salt_len > sizeof(master))
        return -1;

    memset(&policy, 0, sizeof(policy));
    if (srtp_crypto_policy_set_from_profile_for_rtp(&policy.rtp, (srtp_profile_t)profile) ||
        srtp_crypto_policy_set_from_profile_for_rtcp(&policy.rtcp, (srtp_profile_t)profile))
        return -1;

    memcpy(master, key, key_len);
    memcpy(master + key_len, salt, salt_len);
    policy.key = master;
    policy.ssrc.type = ssrc_any_outbound;
    policy.window_size = 1024;
    policy.allow_repeat_tx = 1;

    if (srtp_create(&session, &policy))
        return -1;

    err = rtcp ? srtp_protect_rtcp(session, buf, len) : srtp_protect(session, buf, len);
    srtp_dealloc(session);

    return err == srtp_err_status_ok ? 0 : -1;
}
