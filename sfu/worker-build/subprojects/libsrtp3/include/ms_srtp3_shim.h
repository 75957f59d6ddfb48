/*
 * Prototypes of the libsrtp 3 subset implemented by src/srtp3_shim.c.
 *
 * Why this exists: it is shared by the public facade (include/srtp.h, seen by
 * the mediasoup worker) and by the implementation (which sees the real
 * libsrtp 2.5 header), so both agree on every signature. It must be included
 * after <srtp2/srtp.h>: it only uses types that libsrtp 2.5 and 3 define
 * identically (srtp_t, srtp_err_status_t, srtp_ssrc_t, srtp_profile_t).
 */
#ifndef MS_SRTP3_SHIM_H
#define MS_SRTP3_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* libsrtp 3 error codes unknown to libsrtp 2.5 (same values as libsrtp 3). */
#define srtp_err_status_buffer_small ((srtp_err_status_t)28)
#define srtp_err_status_cryptex_err ((srtp_err_status_t)29)

/* Opaque libsrtp 3 style policy (the worker's srtp_policy_t points to one). */
struct ms_srtp3_policy;

srtp_err_status_t ms_srtp3_policy_create(struct ms_srtp3_policy **policy);
void ms_srtp3_policy_destroy(struct ms_srtp3_policy *policy);
srtp_err_status_t ms_srtp3_policy_set_profile(struct ms_srtp3_policy *policy,
                                              srtp_profile_t profile);
srtp_err_status_t ms_srtp3_policy_set_ssrc(struct ms_srtp3_policy *policy,
                                           srtp_ssrc_t ssrc);
srtp_err_status_t ms_srtp3_policy_add_key(struct ms_srtp3_policy *policy,
                                          const uint8_t *key, size_t key_len,
                                          const uint8_t *salt, size_t salt_len,
                                          const uint8_t *mki, size_t mki_len);
srtp_err_status_t ms_srtp3_policy_set_window_size(struct ms_srtp3_policy *policy,
                                                  size_t window_size);
srtp_err_status_t ms_srtp3_policy_set_allow_repeat_tx(struct ms_srtp3_policy *policy,
                                                      bool allow);

srtp_err_status_t ms_srtp3_create(srtp_t *session,
                                  const struct ms_srtp3_policy *policy);
srtp_err_status_t ms_srtp3_stream_remove(srtp_t session, uint32_t ssrc);

/* Out-of-place (or in-place when in == out) protect/unprotect. On entry the
 * *_len out-parameter holds the capacity of the output buffer; on success it
 * holds the length of the result. */
srtp_err_status_t ms_srtp3_protect(srtp_t session,
                                   const uint8_t *rtp, size_t rtp_len,
                                   uint8_t *srtp, size_t *srtp_len,
                                   size_t mki_index);
srtp_err_status_t ms_srtp3_unprotect(srtp_t session,
                                     const uint8_t *srtp, size_t srtp_len,
                                     uint8_t *rtp, size_t *rtp_len);
srtp_err_status_t ms_srtp3_protect_rtcp(srtp_t session,
                                        const uint8_t *rtcp, size_t rtcp_len,
                                        uint8_t *srtcp, size_t *srtcp_len,
                                        size_t mki_index);
srtp_err_status_t ms_srtp3_unprotect_rtcp(srtp_t session,
                                          const uint8_t *srtcp, size_t srtcp_len,
                                          uint8_t *rtcp, size_t *rtcp_len);

#ifdef __cplusplus
}
#endif

#endif /* MS_SRTP3_SHIM_H */
