/* A strict single-pass JSON scanner for Istio access-log records: the common case (a flat
 * object of plain strings, numbers and nulls) is validated without building a jansson tree,
 * several times faster. It accepts only what jansson (with JSON_REJECT_DUPLICATES) accepts:
 * anything it is not sure about (\u escapes, escaped keys, big numbers, deep nesting, many
 * keys, invalid input) is handed back to jansson. tests/fuzz/fuzz_ingest_traces.c checks
 * both paths agree. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "traces_fields.h"

#define MAX_DEPTH 32
#define MAX_KEYS 64

const char *const ingest_envoy_field_names[EF_COUNT] = {
    "start_time",
    "method",
    "path",
    "protocol",
    "authority",
    "upstream_host",
    "upstream_cluster",
    "downstream_remote_address",
    "x_forwarded_for",
    "user_agent",
    "request_id",
    "requested_server_name",
    "route_name",
    "response_flags",
    "downstream_local_address",
    "upstream_local_address",
    "upstream_transport_failure_reason",
    "response_code",
    "duration",
    "bytes_received",
    "bytes_sent",
};

typedef struct scan {
    const unsigned char *p, *end;
} scan;

typedef struct span {
    const unsigned char *s;
    size_t n;
} span;

static void skip_ws(scan *sc)
{
    while (sc->p < sc->end &&
           (*sc->p == ' ' || *sc->p == '\t' || *sc->p == '\n' || *sc->p == '\r')) {
        sc->p++;
    }
}

/* One UTF-8 sequence starting at p (first byte >= 0x80), as strict as jansson: no overlong
 * forms, no surrogates, nothing above U+10FFFF. Returns its length or 0. */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t n;
    uint32_t v;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2, v = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3, v = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4, v = c & 0x07;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n) {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            return 0;
        }
        v = (v << 6) | (p[i] & 0x3F);
    }
    if ((n == 3 && v < 0x800) || (n == 4 && v < 0x10000) || v > 0x10FFFF ||
        (v >= 0xD800 && v <= 0xDFFF)) {
        return 0;
    }
    return n;
}

/* Bytes that need no attention inside a string: printable ASCII but '"' and '\\'. */
static const unsigned char plain_byte[256] = {
    [0x20 ... 0x21] = 1, /* '"' is 0x22 */
    [0x23 ... 0x5b] = 1, /* '\\' is 0x5c */
    [0x5d ... 0x7f] = 1,
};

/* A string at p ('"'); *raw gets its content. *plain is false when it holds escapes.
 * \u escapes are not handled here (false = fall back). */
static bool scan_string(scan *sc, span *raw, bool *plain)
{
    const unsigned char *p = sc->p + 1;
    *plain = true;
    raw->s = p;
    while (p < sc->end) {
        while (p + 4 <= sc->end && plain_byte[p[0]] && plain_byte[p[1]] && plain_byte[p[2]] &&
               plain_byte[p[3]]) {
            p += 4;
        }
        if (p >= sc->end) {
            break;
        }
        unsigned c = *p;
        if (plain_byte[c]) {
            p++;
        } else if (c == '"') {
            raw->n = (size_t)(p - raw->s);
            sc->p = p + 1;
            return true;
        } else if (c < 0x20) {
            return false;
        } else if (c == '\\') {
            if (p + 1 >= sc->end || p[1] == '\0' || strchr("\"\\/bfnrt", p[1]) == NULL) {
                return false; /* \u and invalid escapes: jansson decides */
            }
            *plain = false;
            p += 2;
        } else {
            size_t n = utf8_seq(p, sc->end);
            if (n == 0) {
                return false;
            }
            p += n;
        }
    }
    return false;
}

static bool is_digit(unsigned c)
{
    return c >= '0' && c <= '9';
}

/* A number in JSON's grammar; *is_int when it has no fraction or exponent. Numbers jansson
 * might refuse (too many digits, exponents) fall back. */
static bool scan_number(scan *sc, span *raw, bool *is_int)
{
    const unsigned char *p = sc->p;
    raw->s = p;
    if (p < sc->end && *p == '-') {
        p++;
    }
    if (p >= sc->end || !is_digit(*p)) {
        return false;
    }
    if (*p == '0') {
        p++;
    } else {
        while (p < sc->end && is_digit(*p)) {
            p++;
        }
    }
    *is_int = true;
    if (p < sc->end && *p == '.') {
        p++;
        if (p >= sc->end || !is_digit(*p)) {
            return false;
        }
        while (p < sc->end && is_digit(*p)) {
            p++;
        }
        *is_int = false;
    }
    if (p < sc->end && (*p == 'e' || *p == 'E')) {
        return false;
    }
    raw->n = (size_t)(p - raw->s);
    sc->p = p;
    return raw->n <= 15;
}

static bool scan_literal(scan *sc, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(sc->end - sc->p) < n || memcmp(sc->p, word, n) != 0) {
        return false;
    }
    sc->p += n;
    return true;
}

static bool scan_value(scan *sc, int depth);

static bool scan_array(scan *sc, int depth)
{
    sc->p++;
    skip_ws(sc);
    if (sc->p < sc->end && *sc->p == ']') {
        sc->p++;
        return true;
    }
    for (;;) {
        if (!scan_value(sc, depth + 1)) {
            return false;
        }
        skip_ws(sc);
        if (sc->p >= sc->end) {
            return false;
        }
        if (*sc->p == ']') {
            sc->p++;
            return true;
        }
        if (*sc->p++ != ',') {
            return false;
        }
        skip_ws(sc);
    }
}

/* Calls on_member for each member of the object at sc->p ('{'); keys must be plain and
 * unique. on_member scans the value itself (sc at the value) and returns false to stop. */
typedef bool (*member_fn)(scan *sc, span key, int depth, void *arg);

static bool scan_object(scan *sc, int depth, member_fn on_member, void *arg)
{
    span keys[MAX_KEYS];
    size_t nkeys = 0;
    uint64_t seen = 0; /* a one-word Bloom filter of the keys so far */
    sc->p++;
    skip_ws(sc);
    if (sc->p < sc->end && *sc->p == '}') {
        sc->p++;
        return true;
    }
    for (;;) {
        span key;
        bool plain;
        if (sc->p >= sc->end || *sc->p != '"' || !scan_string(sc, &key, &plain) || !plain ||
            nkeys == MAX_KEYS) {
            return false;
        }
        uint64_t bit =
            1ULL << ((key.n * 31u + (key.n ? key.s[0] * 7u + key.s[key.n - 1] : 0)) & 63u);
        for (size_t i = 0; (seen & bit) != 0 && i < nkeys; i++) {
            if (keys[i].n == key.n && memcmp(keys[i].s, key.s, key.n) == 0) {
                return false; /* duplicate: jansson words the error */
            }
        }
        seen |= bit;
        keys[nkeys++] = key;
        skip_ws(sc);
        if (sc->p >= sc->end || *sc->p++ != ':') {
            return false;
        }
        skip_ws(sc);
        if (!on_member(sc, key, depth, arg)) {
            return false;
        }
        skip_ws(sc);
        if (sc->p >= sc->end) {
            return false;
        }
        if (*sc->p == '}') {
            sc->p++;
            return true;
        }
        if (*sc->p++ != ',') {
            return false;
        }
        skip_ws(sc);
    }
}

static bool nested_member(scan *sc, span key, int depth, void *arg)
{
    (void)key;
    (void)arg;
    return scan_value(sc, depth + 1);
}

static bool scan_value(scan *sc, int depth)
{
    if (depth > MAX_DEPTH || sc->p >= sc->end) {
        return false;
    }
    span raw;
    bool flag;
    switch (*sc->p) {
    case '{':
        return scan_object(sc, depth, nested_member, NULL);
    case '[':
        return scan_array(sc, depth);
    case '"':
        return scan_string(sc, &raw, &flag);
    case 't':
        return scan_literal(sc, "true");
    case 'f':
        return scan_literal(sc, "false");
    case 'n':
        return scan_literal(sc, "null");
    default:
        return scan_number(sc, &raw, &flag);
    }
}

#define NAME_MAX_LEN 40

/* Field indexes by name length (-1 terminated), built once. */
static int by_len[NAME_MAX_LEN][EF_COUNT + 1];
static pthread_once_t by_len_once = PTHREAD_ONCE_INIT;

static void by_len_init(void)
{
    for (size_t n = 0; n < NAME_MAX_LEN; n++) {
        by_len[n][0] = -1;
    }
    for (int i = 0; i < EF_COUNT; i++) {
        size_t n = strlen(ingest_envoy_field_names[i]);
        int *slot = by_len[n];
        while (*slot >= 0) {
            slot++;
        }
        slot[0] = i;
        slot[1] = -1;
    }
}

static int field_index(span key)
{
    if (key.n >= NAME_MAX_LEN) {
        return -1;
    }
    pthread_once(&by_len_once, by_len_init);
    for (const int *i = by_len[key.n]; *i >= 0; i++) {
        if (memcmp(ingest_envoy_field_names[*i], key.s, key.n) == 0) {
            return *i;
        }
    }
    return -1;
}

static bool is_apiclarity_key(span key)
{
    return (key.n == 7 && memcmp(key.s, "request", 7) == 0) ||
           (key.n == 8 && memcmp(key.s, "response", 8) == 0) ||
           (key.n == 9 && memcmp(key.s, "requestID", 9) == 0);
}

/* Scans a top-level member's value, keeping the known fields' values in ef. */
static bool top_member(scan *sc, span key, int depth, void *arg)
{
    envoy_fields *ef = arg;
    if (sc->p >= sc->end || is_apiclarity_key(key)) {
        return false; /* APIClarity telemetry: the jansson path validates it */
    }
    int k = field_index(key);
    if (k < 0) {
        return scan_value(sc, depth + 1);
    }
    fv *v = &ef->f[k];
    span raw;
    bool flag;
    if (*sc->p == '"') {
        if (!scan_string(sc, &raw, &flag) || !flag || ef->used + raw.n + 1 > EF_ARENA) {
            return false;
        }
        char *copy = ef->arena + ef->used;
        memcpy(copy, raw.s, raw.n);
        copy[raw.n] = '\0';
        ef->used += raw.n + 1;
        *v = (fv){.t = FV_STRING, .s = copy};
        return true;
    }
    if (*sc->p == '-' || is_digit(*sc->p)) {
        if (!scan_number(sc, &raw, &flag)) {
            return false;
        }
        char num[24];
        memcpy(num, raw.s, raw.n);
        num[raw.n] = '\0';
        *v = flag ? (fv){.t = FV_INT, .i = strtoll(num, NULL, 10)}
                  : (fv){.t = FV_REAL, .d = strtod(num, NULL)};
        return true;
    }
    if (*sc->p == 'n') {
        v->t = FV_NULL;
        return scan_literal(sc, "null");
    }
    v->t = FV_OTHER;
    return scan_value(sc, depth + 1);
}

fast_result ingest_envoy_fast_prefix(const char *text, size_t len, envoy_fields *ef, size_t *used)
{
    memset(ef->f, 0, sizeof ef->f);
    ef->used = 0;
    scan sc = {(const unsigned char *)text, (const unsigned char *)text + len};
    skip_ws(&sc);
    if (sc.p >= sc.end || *sc.p != '{' || !scan_object(&sc, 1, top_member, ef)) {
        return FAST_FALLBACK;
    }
    *used = (size_t)(sc.p - (const unsigned char *)text);
    return FAST_ENVOY;
}

fast_result ingest_envoy_fast(const char *text, size_t len, envoy_fields *ef)
{
    size_t used = 0;
    if (ingest_envoy_fast_prefix(text, len, ef, &used) != FAST_ENVOY) {
        return FAST_FALLBACK;
    }
    scan sc = {(const unsigned char *)text + used, (const unsigned char *)text + len};
    skip_ws(&sc);
    return sc.p == sc.end ? FAST_ENVOY : FAST_FALLBACK;
}
