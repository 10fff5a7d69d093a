/* Secret storage: AES-256-GCM under the master key, with a key id and associated data. */
#ifndef VIGIL_CRYPTO_H
#define VIGIL_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

typedef struct vg_master_key {
    unsigned char key[32];
    char id[17]; /* first 16 hex chars of SHA-256(key): identifies the key, reveals nothing */
} vg_master_key;

/* Loads the base64 key; when b64 is NULL/empty and dev_mode is true a key is derived
 * from a fixed dev seed (logged loudly). Returns 0 or -1 with errbuf set. */
int vg_master_key_load(vg_master_key *mk, const char *b64, bool dev_mode, char *errbuf,
                       size_t errlen) __attribute__((warn_unused_result));

/* Encrypts plaintext; the result is "v1:<key id>:<base64(nonce|ciphertext|tag)>" (a new
 * string). aad (e.g. "tenant_id/cluster_id") is authenticated, not stored. */
char *vg_secret_seal(const vg_master_key *mk, const void *plain, size_t len, const char *aad);
/* Decrypts a sealed string; returns a new NUL-terminated buffer (length in *len) or NULL
 * when the key id, the aad or the tag does not match. Wipe and free the result after use. */
unsigned char *vg_secret_open(const vg_master_key *mk, const char *sealed, const char *aad,
                              size_t *len);

/* Overwrites memory in a way the compiler keeps. */
void vg_wipe(void *p, size_t len);

#endif
