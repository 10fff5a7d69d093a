/* Small helpers shared by every service: ids, time, encodings, hashing. */
#ifndef VIGIL_UTIL_H
#define VIGIL_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define VG_UUID_LEN 36

/* Random (version 4) UUID into out[37]. */
void vg_uuid_v4(char out[VG_UUID_LEN + 1]);
/* True when s is a canonical 8-4-4-4-12 hex UUID. */
bool vg_uuid_valid(const char *s);

/* RFC 3339 UTC timestamp with milliseconds, e.g. 2026-11-26T23:30:28.123Z, into out[32]. */
void vg_time_rfc3339(char out[32]);
void vg_time_format(char out[32], const struct timespec *ts);
/* Parses RFC 3339 (Z or +hh:mm offset, optional fraction); false when invalid. */
bool vg_time_parse(const char *s, struct timespec *out);
/* Monotonic milliseconds. */
int64_t vg_now_ms(void);

/* Fills buf with cryptographically random bytes (aborts if the CSPRNG fails). */
void vg_random_bytes(void *buf, size_t len);

/* Hex of data into a new string. */
char *vg_hex_encode(const unsigned char *data, size_t len);
/* Base64 (standard alphabet, padded) into a new string. */
char *vg_base64_encode(const unsigned char *data, size_t len);
/* Base64url without padding. */
char *vg_base64url_encode(const unsigned char *data, size_t len);
/* Decodes standard or url-safe base64, padded or not; returns a new buffer and sets *outlen,
 * or NULL when invalid. */
unsigned char *vg_base64_decode(const char *s, size_t len, size_t *outlen);

/* SHA-256 of data as lowercase hex into out[65]. */
void vg_sha256_hex(const void *data, size_t len, char out[65]);
/* HMAC-SHA256 into out[32]. */
void vg_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                    unsigned char out[32]);
/* Constant-time comparison of two byte strings of the same length. */
bool vg_ct_equal(const void *a, const void *b, size_t len);

/* A random token "<prefix>_<43 base64url chars>"; new string. */
char *vg_token_new(const char *prefix);

/* Splits "host:port"; returns false when malformed. host is a new string. */
bool vg_split_hostport(const char *addr, char **host, int *port);

#endif
