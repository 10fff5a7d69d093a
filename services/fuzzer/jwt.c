/* JWT helpers; see jwt.h. */
#include "jwt.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vigil/alloc.h"
#include "vigil/util.h"

const char *const fz_jwt_weak_secrets[] = {
    "secret",      "password",  "123456",    "changeme",
    "jwt_secret",  "secretkey", "secret123", "your-256-bit-secret",
    "key",         "admin",     "test",      "default",
    "supersecret", "s3cr3t",    "qwerty",    "letmein",
    "jwt",         "token",     "mysecret",  "",
    NULL,
};

static json_t *part_json(const char *s, size_t len)
{
    size_t outlen = 0;
    unsigned char *raw = len > 0 ? vg_base64_decode(s, len, &outlen) : NULL;
    if (raw == NULL) {
        return NULL;
    }
    json_t *j = json_loadb((const char *)raw, outlen, 0, NULL);
    free(raw);
    if (j != NULL && !json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

bool fz_jwt_parse(const char *token, json_t **header, json_t **payload)
{
    const char *d1 = strchr(token, '.');
    const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (d1 == NULL || d2 == NULL || strchr(d2 + 1, '.') != NULL) {
        return false;
    }
    json_t *h = part_json(token, (size_t)(d1 - token));
    json_t *p = part_json(d1 + 1, (size_t)(d2 - d1 - 1));
    bool ok = h != NULL && p != NULL;
    if (ok && header != NULL) {
        *header = json_incref(h);
    }
    if (ok && payload != NULL) {
        *payload = json_incref(p);
    }
    json_decref(h);
    json_decref(p);
    return ok;
}

static char *encode_json(const json_t *j)
{
    char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    char *enc = vg_base64url_encode((const unsigned char *)text, strlen(text));
    free(text);
    return enc;
}

char *fz_jwt_forge_none(const char *token)
{
    json_t *payload = NULL;
    if (!fz_jwt_parse(token, NULL, &payload)) {
        return NULL;
    }
    json_t *header = json_pack("{s:s,s:s}", "alg", "none", "typ", "JWT");
    char *h = encode_json(header);
    char *p = encode_json(payload);
    char *out = vg_asprintf("%s.%s.", h, p);
    free(h);
    free(p);
    json_decref(header);
    json_decref(payload);
    return out;
}

static char *hs256_sig(const char *signing_input, size_t len, const char *secret)
{
    unsigned char mac[32];
    vg_hmac_sha256(secret, strlen(secret), signing_input, len, mac);
    return vg_base64url_encode(mac, sizeof mac);
}

char *fz_jwt_sign_hs256(const json_t *payload, const char *secret)
{
    json_t *header = json_pack("{s:s,s:s}", "alg", "HS256", "typ", "JWT");
    char *h = encode_json(header);
    char *p = encode_json(payload);
    char *input = vg_asprintf("%s.%s", h, p);
    char *sig = hs256_sig(input, strlen(input), secret);
    char *out = vg_asprintf("%s.%s", input, sig);
    free(h);
    free(p);
    free(input);
    free(sig);
    json_decref(header);
    return out;
}

int fz_jwt_crack_hs256(const char *token, const char *const *words)
{
    json_t *header = NULL;
    if (!fz_jwt_parse(token, &header, NULL)) {
        return -1;
    }
    const char *alg = json_string_value(json_object_get(header, "alg"));
    bool hs256 = alg != NULL && strcmp(alg, "HS256") == 0;
    json_decref(header);
    if (!hs256) {
        return -1;
    }
    const char *dot = strrchr(token, '.');
    size_t input_len = (size_t)(dot - token);
    for (int i = 0; words[i] != NULL; i++) {
        char *sig = hs256_sig(token, input_len, words[i]);
        bool match = strlen(sig) == strlen(dot + 1) && vg_ct_equal(sig, dot + 1, strlen(sig));
        free(sig);
        if (match) {
            return i;
        }
    }
    return -1;
}

char *fz_jwt_tamper(const char *token)
{
    size_t len = strlen(token);
    const char *dot = strrchr(token, '.');
    if (dot == NULL || (size_t)(dot - token) + 1 >= len) {
        return NULL;
    }
    char *out = vg_strdup(token);
    /* change a character in the middle of the signature: every bit of it is significant */
    size_t pos = (size_t)(dot - token) + 1 + (len - (size_t)(dot - token) - 1) / 2;
    out[pos] = out[pos] == 'A' ? 'B' : 'A';
    return out;
}

char *fz_jwt_from_header(const char *line)
{
    if (strncasecmp(line, "authorization:", 14) != 0) {
        return NULL;
    }
    const char *v = line + 14;
    v += strspn(v, " \t");
    if (strncasecmp(v, "bearer ", 7) != 0) {
        return NULL;
    }
    v += 7;
    v += strspn(v, " \t");
    if (!fz_jwt_parse(v, NULL, NULL)) {
        return NULL;
    }
    return vg_strdup(v);
}
