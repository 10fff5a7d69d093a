/* scrypt password hashing through OpenSSL 3's EVP_KDF (see password.h). */
#include "password.h"

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/alloc.h"
#include "vigil/crypto.h"
#include "vigil/util.h"

#define SALT_LEN 16
#define HASH_LEN 32
#define MAX_N (1u << 20)

/* Derives HASH_LEN bytes into out; returns false when the KDF refuses the parameters. */
static bool scrypt_derive(const char *password, const unsigned char *salt, size_t saltlen,
                          uint64_t n, uint32_t r, uint32_t p, unsigned char out[HASH_LEN])
{
    bool ok = false;
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
    EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    if (kctx == NULL) {
        goto out;
    }
    uint64_t maxmem = (uint64_t)128 * r * (n + p + 2) + (1u << 20);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)password,
                                          strlen(password)),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, saltlen),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
        OSSL_PARAM_construct_end(),
    };
    ok = EVP_KDF_derive(kctx, out, HASH_LEN, params) == 1;
out:
    EVP_KDF_CTX_free(kctx);
    EVP_KDF_free(kdf);
    return ok;
}

char *portal_password_hash_with(const char *password, uint64_t n, uint32_t r, uint32_t p)
{
    unsigned char salt[SALT_LEN], hash[HASH_LEN];
    vg_random_bytes(salt, sizeof salt);
    if (!scrypt_derive(password, salt, sizeof salt, n, r, p, hash)) {
        return NULL;
    }
    char *salt64 = vg_base64url_encode(salt, sizeof salt);
    char *hash64 = vg_base64url_encode(hash, sizeof hash);
    char *out = vg_asprintf("scrypt$%llu$%u$%u$%s$%s", (unsigned long long)n, r, p, salt64, hash64);
    vg_wipe(hash, sizeof hash);
    free(salt64);
    free(hash64);
    return out;
}

char *portal_password_hash(const char *password)
{
    return portal_password_hash_with(password, PORTAL_SCRYPT_N, PORTAL_SCRYPT_R, PORTAL_SCRYPT_P);
}

/* Parses an unsigned decimal field ending at '$'; advances *s past the '$'. */
static bool parse_num(const char **s, uint64_t max, uint64_t *out)
{
    char *end = NULL;
    if (**s < '0' || **s > '9') {
        return false;
    }
    unsigned long long v = strtoull(*s, &end, 10);
    if (end == NULL || *end != '$' || v == 0 || v > max) {
        return false;
    }
    *out = v;
    *s = end + 1;
    return true;
}

typedef struct stored_hash {
    uint64_t n, r, p;
    unsigned char *salt, *hash;
    size_t saltlen, hashlen;
} stored_hash;

static bool stored_parse(const char *stored, stored_hash *h)
{
    memset(h, 0, sizeof *h);
    if (stored == NULL || strncmp(stored, "scrypt$", 7) != 0) {
        return false;
    }
    const char *s = stored + 7;
    if (!parse_num(&s, MAX_N, &h->n) || (h->n & (h->n - 1)) != 0 || h->n < 2 ||
        !parse_num(&s, 32, &h->r) || !parse_num(&s, 16, &h->p)) {
        return false;
    }
    const char *dollar = strchr(s, '$');
    if (dollar == NULL) {
        return false;
    }
    h->salt = vg_base64_decode(s, (size_t)(dollar - s), &h->saltlen);
    h->hash = vg_base64_decode(dollar + 1, strlen(dollar + 1), &h->hashlen);
    return h->salt != NULL && h->hash != NULL && h->saltlen >= 8 && h->hashlen == HASH_LEN;
}

bool portal_password_verify(const char *password, const char *stored)
{
    stored_hash h = {0};
    unsigned char got[HASH_LEN] = {0};
    bool ok = false;
    if (password == NULL || !stored_parse(stored, &h)) {
        goto out;
    }
    if (scrypt_derive(password, h.salt, h.saltlen, h.n, (uint32_t)h.r, (uint32_t)h.p, got)) {
        ok = vg_ct_equal(got, h.hash, HASH_LEN);
    }
out:
    vg_wipe(got, sizeof got);
    free(h.salt);
    free(h.hash);
    return ok;
}

bool portal_password_verify_dummy(const char *password)
{
    static const unsigned char salt[SALT_LEN] = "vigil-dummy-salt";
    unsigned char got[HASH_LEN];
    (void)scrypt_derive(password ? password : "", salt, sizeof salt, PORTAL_SCRYPT_N,
                        PORTAL_SCRYPT_R, PORTAL_SCRYPT_P, got);
    vg_wipe(got, sizeof got);
    return false;
}
