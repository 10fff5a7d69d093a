#include "vigil/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/alloc.h"
#include "vigil/log.h"
#include "vigil/util.h"

#define NONCE_LEN 12
#define TAG_LEN 16

void vg_wipe(void *p, size_t len)
{
    if (p) {
        OPENSSL_cleanse(p, len);
    }
}

int vg_master_key_load(vg_master_key *mk, const char *b64, bool dev_mode, char *errbuf,
                       size_t errlen)
{
    if (b64 == NULL || *b64 == '\0') {
        if (!dev_mode) {
            snprintf(errbuf, errlen,
                     "VIGIL_MASTER_KEY is required (32 bytes, base64; e.g. openssl rand "
                     "-base64 32) outside dev mode");
            return -1;
        }
        static const char seed[] = "vigil development master key - not for production";
        unsigned char md[32];
        EVP_Digest(seed, sizeof seed - 1, md, NULL, EVP_sha256(), NULL);
        memcpy(mk->key, md, 32);
        vg_warn("VIGIL_MASTER_KEY unset: using the fixed development key (dev mode only)");
    } else {
        size_t len = 0;
        unsigned char *raw = vg_base64_decode(b64, strlen(b64), &len);
        if (raw == NULL || len != 32) {
            snprintf(errbuf, errlen, "VIGIL_MASTER_KEY must be 32 bytes encoded in base64");
            if (raw) {
                vg_wipe(raw, len);
            }
            free(raw);
            return -1;
        }
        memcpy(mk->key, raw, 32);
        vg_wipe(raw, len);
        free(raw);
    }
    char hex[65];
    vg_sha256_hex(mk->key, 32, hex);
    memcpy(mk->id, hex, 16);
    mk->id[16] = '\0';
    return 0;
}

static bool gcm_run(bool enc, const unsigned char *key, const unsigned char *nonce, const char *aad,
                    const unsigned char *in, size_t len, unsigned char *out, unsigned char *tag)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0;
    bool ok = ctx && EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) == 1 &&
              EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) == 1 &&
              EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) == 1;
    if (ok && aad && *aad) {
        ok = EVP_CipherUpdate(ctx, NULL, &n, (const unsigned char *)aad, (int)strlen(aad)) == 1;
    }
    if (ok && len > 0) {
        ok = EVP_CipherUpdate(ctx, out, &n, in, (int)len) == 1;
    }
    if (ok && !enc) {
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) == 1;
    }
    if (ok) {
        ok = EVP_CipherFinal_ex(ctx, out + len, &n) == 1;
    }
    if (ok && enc) {
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) == 1;
    }
    EVP_CIPHER_CTX_free(ctx);
    return ok;
}

char *vg_secret_seal(const vg_master_key *mk, const void *plain, size_t len, const char *aad)
{
    size_t total = NONCE_LEN + len + TAG_LEN;
    unsigned char *blob = vg_malloc(total + 16);
    vg_random_bytes(blob, NONCE_LEN);
    if (!gcm_run(true, mk->key, blob, aad, plain, len, blob + NONCE_LEN, blob + NONCE_LEN + len)) {
        free(blob);
        return NULL;
    }
    char *b64 = vg_base64_encode(blob, total);
    char *sealed = vg_asprintf("v1:%s:%s", mk->id, b64);
    free(b64);
    free(blob);
    return sealed;
}

unsigned char *vg_secret_open(const vg_master_key *mk, const char *sealed, const char *aad,
                              size_t *len)
{
    size_t idlen = strlen(mk->id);
    if (strncmp(sealed, "v1:", 3) != 0 || strncmp(sealed + 3, mk->id, idlen) != 0 ||
        sealed[3 + idlen] != ':') {
        return NULL;
    }
    const char *b64 = sealed + 3 + idlen + 1;
    size_t bloblen = 0;
    unsigned char *blob = vg_base64_decode(b64, strlen(b64), &bloblen);
    if (blob == NULL || bloblen < NONCE_LEN + TAG_LEN) {
        free(blob);
        return NULL;
    }
    size_t plen = bloblen - NONCE_LEN - TAG_LEN;
    unsigned char *plain = vg_malloc(plen + 16);
    if (!gcm_run(false, mk->key, blob, aad, blob + NONCE_LEN, plen, plain,
                 blob + NONCE_LEN + plen)) {
        vg_wipe(plain, plen + 16);
        free(plain);
        free(blob);
        return NULL;
    }
    free(blob);
    plain[plen] = '\0';
    *len = plen;
    return plain;
}
