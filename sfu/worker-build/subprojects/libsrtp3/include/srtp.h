/*
 * libsrtp 3 API facade over Debian's libsrtp 2.5 (the header the mediasoup
 * worker gets for `#include <srtp.h>`).
 *
 * Why this exists: Debian bookworm has libsrtp 2.5, but mediasoup 3.27.1's
 * worker is written against libsrtp 3's API: separate in/out buffers with
 * size_t lengths, an opaque srtp_policy_t configured through setters,
 * srtp_stream_remove(), two extra error codes. This header keeps everything
 * libsrtp 2.5 and 3 share (types, srtp_init/shutdown/dealloc, the event
 * handler, the profile key/salt length getters) and replaces the rest with
 * the 3.x declarations, which src/srtp3_shim.c implements on top of 2.5.
 *
 * Only the subset used by mediasoup 3.27.1 is provided, and no MKI support.
 */
#ifndef MS_SRTP3_FACADE_SRTP_H
#define MS_SRTP3_FACADE_SRTP_H

/* Hide the libsrtp 2.5 declarations whose names libsrtp 3 reuses with a
 * different signature; the 3.x versions are declared below instead. */
#define srtp_policy_t ms_srtp2_hidden_policy_t
#define srtp_create ms_srtp2_hidden_create
#define srtp_protect ms_srtp2_hidden_protect
#define srtp_unprotect ms_srtp2_hidden_unprotect
#define srtp_protect_rtcp ms_srtp2_hidden_protect_rtcp
#define srtp_unprotect_rtcp ms_srtp2_hidden_unprotect_rtcp
#include <srtp2/srtp.h>
#undef srtp_policy_t
#undef srtp_create
#undef srtp_protect
#undef srtp_unprotect
#undef srtp_protect_rtcp
#undef srtp_unprotect_rtcp

#include "ms_srtp3_shim.h"

/* libsrtp 3: the policy is an opaque handle. */
typedef struct ms_srtp3_policy *srtp_policy_t;

/* libsrtp 3 names -> shim implementations (distinct link symbols, so the
 * libsrtp2 functions of the same name are never interposed). */
#define srtp_policy_create ms_srtp3_policy_create
#define srtp_policy_destroy ms_srtp3_policy_destroy
#define srtp_policy_set_profile ms_srtp3_policy_set_profile
#define srtp_policy_set_ssrc ms_srtp3_policy_set_ssrc
#define srtp_policy_add_key ms_srtp3_policy_add_key
#define srtp_policy_set_window_size ms_srtp3_policy_set_window_size
#define srtp_policy_set_allow_repeat_tx ms_srtp3_policy_set_allow_repeat_tx
#define srtp_create ms_srtp3_create
#define srtp_stream_remove ms_srtp3_stream_remove
#define srtp_protect ms_srtp3_protect
#define srtp_unprotect ms_srtp3_unprotect
#define srtp_protect_rtcp ms_srtp3_protect_rtcp
#define srtp_unprotect_rtcp ms_srtp3_unprotect_rtcp

#endif /* MS_SRTP3_FACADE_SRTP_H */
