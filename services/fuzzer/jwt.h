/* JSON Web Token helpers for the broken-authentication checks: parse, forge alg=none,
 * re-sign with HS256, crack a weak HS256 secret from a small wordlist, tamper a signature.
 * Every returned string is new and owned by the caller (free()). */
#ifndef FUZZER_JWT_H
#define FUZZER_JWT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The built-in wordlist of weak HMAC secrets (NULL-terminated). */
extern const char *const fz_jwt_weak_secrets[];

/* Splits a compact JWS; *header and *payload are new references (json_decref) when not NULL.
 * Returns false when token is not three base64url parts with JSON objects in the first two. */
bool fz_jwt_parse(const char *token, json_t **header, json_t **payload);
/* The token re-encoded with {"alg":"none","typ":"JWT"} and an empty signature. */
char *fz_jwt_forge_none(const char *token);
/* header.payload signed with HS256 under secret (header gets alg HS256). */
char *fz_jwt_sign_hs256(const json_t *payload, const char *secret);
/* Index in `words` (NULL-terminated) of the secret that verifies an HS256 token, or -1. */
int fz_jwt_crack_hs256(const char *token, const char *const *words);
/* Same token with the last character of the signature changed (signature invalid). */
char *fz_jwt_tamper(const char *token);
/* The bearer token in a header line "Authorization: Bearer <t>" when it looks like a JWT,
 * as a new string, else NULL. */
char *fz_jwt_from_header(const char *line);

#endif
