/* Password hashing with scrypt (OpenSSL EVP_KDF "SCRYPT"), stored as
 * "scrypt$<N>$<r>$<p>$<salt base64url>$<hash base64url>". */
#ifndef PORTAL_PASSWORD_H
#define PORTAL_PASSWORD_H

#include <stdbool.h>
#include <stdint.h>

#define PORTAL_SCRYPT_N 32768u
#define PORTAL_SCRYPT_R 8u
#define PORTAL_SCRYPT_P 1u

/* Hashes password with the given cost; returns a new string, NULL when the KDF fails. */
char *portal_password_hash_with(const char *password, uint64_t n, uint32_t r, uint32_t p);
/* Hashes with the default cost (N=2^15, r=8, p=1). */
char *portal_password_hash(const char *password);
/* True when password matches stored (constant-time comparison). A malformed stored string
 * or absurd parameters never match. */
bool portal_password_verify(const char *password, const char *stored);
/* Runs the same work as a verification against a fixed dummy hash, so an unknown user takes
 * as long as a wrong password. Always false. */
bool portal_password_verify_dummy(const char *password);

#endif
