/* See v2_reference.c. Plain C types only: included next to the v3 facade. */
#ifndef MS_V2_REFERENCE_H
#define MS_V2_REFERENCE_H

#include <stddef.h>
#include <stdint.h>

/* Protects buf (capacity >= *len + 20) in place with a fresh libsrtp 2.5
 * session; returns 0 on success. */
int v2_reference_protect(int profile, const uint8_t *key, size_t key_len,
                         const uint8_t *salt, size_t salt_len, int rtcp,
                         uint8_t *buf, int *len);

#endif
