#include "vigil/util.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/alloc.h"

void vg_random_bytes(void *buf, size_t len)
{
    if (RAND_bytes(buf, (int)len) != 1) {
        fprintf(stderr, "{\"level\":\"error\",\"msg\":\"CSPRNG failure\"}\n");
        abort();
    }
}

void vg_uuid_v4(char out[VG_UUID_LEN + 1])
{
    unsigned char b[16];
    vg_random_bytes(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, VG_UUID_LEN + 1,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
}

bool vg_uuid_valid(const char *s)
{
    if (s == NULL || strlen(s) != VG_UUID_LEN) {
        return false;
    }
    for (int i = 0; i < VG_UUID_LEN; i++) {
        bool dash = (i == 8 || i == 13 || i == 18 || i == 23);
        if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

void vg_time_format(char out[32], const struct timespec *ts)
{
    struct tm tm;
    gmtime_r(&ts->tv_sec, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03uZ", (unsigned)((ts->tv_nsec / 1000000) % 1000));
}

void vg_time_rfc3339(char out[32])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    vg_time_format(out, &ts);
}

static bool parse_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i])) {
            return false;
        }
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool expect(const char **p, const char *chars)
{
    if (**p && strchr(chars, **p)) {
        (*p)++;
        return true;
    }
    return false;
}

static bool parse_fraction_and_zone(const char *p, long *nsec, long *offset_s)
{
    *nsec = 0;
    *offset_s = 0;
    if (*p == '.') {
        p++;
        long scale = 100000000;
        if (!isdigit((unsigned char)*p)) {
            return false;
        }
        for (; isdigit((unsigned char)*p); p++) {
            *nsec += (*p - '0') * scale;
            scale /= 10;
        }
    }
    if (*p == 'Z' || *p == 'z') {
        return p[1] == '\0';
    }
    int sign = (*p == '+') ? 1 : (*p == '-') ? -1 : 0;
    int hh, mm;
    if (sign == 0) {
        return false;
    }
    p++;
    if (!parse_digits(&p, 2, &hh) || !expect(&p, ":") || !parse_digits(&p, 2, &mm) || *p) {
        return false;
    }
    *offset_s = sign * (hh * 3600 + mm * 60);
    return hh < 24 && mm < 60;
}

bool vg_time_parse(const char *s, struct timespec *out)
{
    struct tm tm = {0};
    int y, mo, d, h, mi, se;
    const char *p = s;
    if (s == NULL || !parse_digits(&p, 4, &y) || !expect(&p, "-") || !parse_digits(&p, 2, &mo) ||
        !expect(&p, "-") || !parse_digits(&p, 2, &d) || !expect(&p, "Tt ") ||
        !parse_digits(&p, 2, &h) || !expect(&p, ":") || !parse_digits(&p, 2, &mi) ||
        !expect(&p, ":") || !parse_digits(&p, 2, &se)) {
        return false;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) {
        return false;
    }
    long nsec, offset;
    if (!parse_fraction_and_zone(p, &nsec, &offset)) {
        return false;
    }
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    out->tv_sec = timegm(&tm) - offset;
    out->tv_nsec = nsec;
    return true;
}

int64_t vg_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *vg_hex_encode(const unsigned char *data, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    char *s = vg_malloc(len * 2 + 1);
    for (size_t i = 0; i < len; i++) {
        s[2 * i] = digits[data[i] >> 4];
        s[2 * i + 1] = digits[data[i] & 15];
    }
    s[len * 2] = '\0';
    return s;
}

static char *b64_encode(const unsigned char *data, size_t len, const char *alphabet, bool pad)
{
    char *s = vg_malloc((len + 2) / 3 * 4 + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16;
        size_t n = len - i;
        if (n > 1) {
            v |= (uint32_t)data[i + 1] << 8;
        }
        if (n > 2) {
            v |= data[i + 2];
        }
        s[o++] = alphabet[(v >> 18) & 63];
        s[o++] = alphabet[(v >> 12) & 63];
        if (n > 1) {
            s[o++] = alphabet[(v >> 6) & 63];
        } else if (pad) {
            s[o++] = '=';
        }
        if (n > 2) {
            s[o++] = alphabet[v & 63];
        } else if (pad) {
            s[o++] = '=';
        }
    }
    s[o] = '\0';
    return s;
}

char *vg_base64_encode(const unsigned char *data, size_t len)
{
    return b64_encode(data, len, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
                      true);
}

char *vg_base64url_encode(const unsigned char *data, size_t len)
{
    return b64_encode(data, len, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
                      false);
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+' || c == '-') {
        return 62;
    }
    if (c == '/' || c == '_') {
        return 63;
    }
    return -1;
}

unsigned char *vg_base64_decode(const char *s, size_t len, size_t *outlen)
{
    while (len > 0 && (s[len - 1] == '=' || s[len - 1] == '\n' || s[len - 1] == '\r')) {
        len--;
    }
    if (len % 4 == 1) {
        return NULL;
    }
    unsigned char *out = vg_malloc(len / 4 * 3 + 3);
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64_value(s[i]);
        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    out[o] = '\0';
    *outlen = o;
    return out;
}

void vg_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(data, len, md);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) {
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    }
}

void vg_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                    unsigned char out[32])
{
    unsigned int outlen = 32;
    HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &outlen);
}

bool vg_ct_equal(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}

char *vg_token_new(const char *prefix)
{
    unsigned char raw[32];
    vg_random_bytes(raw, sizeof raw);
    char *body = vg_base64url_encode(raw, sizeof raw);
    char *tok = vg_asprintf("%s_%s", prefix, body);
    free(body);
    return tok;
}

bool vg_split_hostport(const char *addr, char **host, int *port)
{
    const char *colon = strrchr(addr, ':');
    if (colon == NULL || colon == addr || colon[1] == '\0') {
        return false;
    }
    char *end = NULL;
    long p = strtol(colon + 1, &end, 10);
    if (*end != '\0' || p < 0 || p > 65535) {
        return false;
    }
    const char *h = addr;
    size_t hlen = (size_t)(colon - addr);
    if (h[0] == '[' && hlen >= 2 && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    }
    *host = vg_strndup(h, hlen);
    *port = (int)p;
    return true;
}
