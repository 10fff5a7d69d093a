/* Content analysis: see detect.h. */
#include "detect.h"

#include <ctype.h>
#include <string.h>

#include "vigil/util.h"

static const char *const sens_names[API_SENS_KINDS] = {"email", "phone",  "card", "ssn",
                                                       "jwt",   "apikey", "iban"};

const char *api_sensitive_name(unsigned bit)
{
    for (int i = 0; i < API_SENS_KINDS; i++) {
        if (bit == (1u << i)) {
            return sens_names[i];
        }
    }
    return "unknown";
}

bool api_luhn_valid(const char *digits, size_t n)
{
    int sum = 0;
    bool dbl = false;
    for (size_t i = n; i-- > 0;) {
        int d = digits[i] - '0';
        if (dbl) {
            d *= 2;
            d = d > 9 ? d - 9 : d;
        }
        sum += d;
        dbl = !dbl;
    }
    return n > 0 && sum % 10 == 0;
}

bool api_iban_valid(const char *s, size_t len)
{
    if (len < 15 || len > 34 || !isupper((unsigned char)s[0]) || !isupper((unsigned char)s[1]) ||
        !isdigit((unsigned char)s[2]) || !isdigit((unsigned char)s[3])) {
        return false;
    }
    unsigned rem = 0;
    for (size_t k = 0; k < len; k++) {
        unsigned char c = (unsigned char)s[(k + 4) % len];
        if (isdigit(c)) {
            rem = (rem * 10 + (unsigned)(c - '0')) % 97;
        } else if (isupper(c)) {
            unsigned v = (unsigned)(c - 'A') + 10;
            rem = (rem * 100 + v) % 97;
        } else {
            return false;
        }
    }
    return rem == 1;
}

static bool is_word_char(unsigned char c)
{
    return isalnum(c) || c == '_' || c == '-' || c == '.';
}

/* Email at '@' position at in s: local part before, a dotted domain after. */
static bool email_at(const char *s, size_t len, size_t at, size_t atlen)
{
    size_t l = at;
    while (l > 0 && (isalnum((unsigned char)s[l - 1]) || strchr("._%+-", s[l - 1]) != NULL)) {
        l--;
    }
    size_t r = at + atlen, dots = 0, last_dot = 0;
    while (r < len && (isalnum((unsigned char)s[r]) || s[r] == '.' || s[r] == '-')) {
        if (s[r] == '.') {
            dots++;
            last_dot = r;
        }
        r++;
    }
    return l < at && dots > 0 && last_dot > at + atlen && r - last_dot > 2 &&
           isalpha((unsigned char)s[r - 1]);
}

/* A run of digits with optional single spaces/dashes between groups: card, SSN or phone. */
static unsigned digits_at(const char *s, size_t len, size_t i, size_t *end)
{
    char d[24];
    size_t nd = 0, j = i, seps = 0;
    char sep = 0;
    bool plus = i > 0 && s[i - 1] == '+';
    while (j < len && nd < sizeof d) {
        if (isdigit((unsigned char)s[j])) {
            d[nd++] = s[j++];
        } else if ((s[j] == ' ' || s[j] == '-') && j + 1 < len &&
                   isdigit((unsigned char)s[j + 1]) && (sep == 0 || sep == s[j])) {
            sep = s[j++];
            seps++;
        } else {
            break;
        }
    }
    *end = j;
    if (j < len && (isalnum((unsigned char)s[j]) || s[j] == '_')) {
        return 0; /* part of a longer token */
    }
    unsigned found = 0;
    if (nd >= 13 && nd <= 19 && strchr("3456", d[0]) != NULL && api_luhn_valid(d, nd)) {
        found |= API_SENS_CARD;
    }
    if (nd == 9 && sep == '-' && seps == 2 && s[i + 3] == '-' && s[i + 6] == '-' &&
        memcmp(d, "000", 3) != 0 && memcmp(d, "666", 3) != 0 && d[0] != '9' &&
        memcmp(d + 3, "00", 2) != 0 && memcmp(d + 5, "0000", 4) != 0) {
        found |= API_SENS_SSN;
    }
    if ((plus && nd >= 8 && nd <= 15) ||
        (nd == 10 && sep != 0 && seps == 2 && s[i + 3] == sep && s[i + 7] == sep)) {
        found |= API_SENS_PHONE;
    }
    return found;
}

static bool b64url_run(const char *s, size_t len, size_t *i)
{
    size_t start = *i;
    while (*i < len && (isalnum((unsigned char)s[*i]) || s[*i] == '-' || s[*i] == '_')) {
        (*i)++;
    }
    return *i > start;
}

static bool jwt_at(const char *s, size_t len, size_t i)
{
    if (i + 3 > len || memcmp(s + i, "eyJ", 3) != 0) {
        return false;
    }
    size_t j = i;
    if (!b64url_run(s, len, &j) || j >= len || s[j] != '.') {
        return false;
    }
    j++;
    if (!b64url_run(s, len, &j) || j >= len || s[j] != '.') {
        return false;
    }
    return j - i > 20;
}

typedef struct key_prefix {
    const char *prefix;
    size_t min_rest; /* at least this many token characters after the prefix */
} key_prefix;

static const key_prefix key_prefixes[] = {
    {"sk_live_", 16}, {"sk_test_", 16}, {"rk_live_", 16}, {"pk_live_", 16},    {"AKIA", 16},
    {"ASIA", 16},     {"ghp_", 30},     {"gho_", 30},     {"github_pat_", 30}, {"xoxb-", 20},
    {"xoxp-", 20},    {"AIza", 30},     {"glpat-", 20},   {"SG.", 40},         {"vgk_", 40},
    {"vgi_", 40},     {NULL, 0}};

static bool apikey_at(const char *s, size_t len, size_t i)
{
    switch (s[i]) { /* first letters of the known prefixes */
    case 's':
    case 'r':
    case 'p':
    case 'A':
    case 'g':
    case 'x':
    case 'S':
    case 'v':
        break;
    default:
        return false;
    }
    if (i > 0 && (isalnum((unsigned char)s[i - 1]) || s[i - 1] == '_')) {
        return false;
    }
    for (size_t k = 0; key_prefixes[k].prefix != NULL; k++) {
        size_t pl = strlen(key_prefixes[k].prefix);
        if (i + pl > len || memcmp(s + i, key_prefixes[k].prefix, pl) != 0) {
            continue;
        }
        size_t j = i + pl;
        while (j < len &&
               (isalnum((unsigned char)s[j]) || s[j] == '_' || s[j] == '-' || s[j] == '.')) {
            j++;
        }
        if (j - i - pl >= key_prefixes[k].min_rest) {
            return true;
        }
    }
    return false;
}

static bool iban_at(const char *s, size_t len, size_t i, size_t *end)
{
    size_t j = i;
    while (j < len && (isupper((unsigned char)s[j]) || isdigit((unsigned char)s[j]))) {
        j++;
    }
    *end = j;
    if (i > 0 && isalnum((unsigned char)s[i - 1])) {
        return false;
    }
    return (j >= len || !isalnum((unsigned char)s[j])) && api_iban_valid(s + i, j - i);
}

unsigned api_sensitive_scan(const char *s, size_t len)
{
    unsigned found = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        size_t end = i + 1;
        if (c == '@' && email_at(s, len, i, 1)) {
            found |= API_SENS_EMAIL;
        } else if (c == '%' && i + 2 < len && s[i + 1] == '4' && s[i + 2] == '0' &&
                   email_at(s, len, i, 3)) {
            found |= API_SENS_EMAIL;
        } else if (isdigit(c) && (i == 0 || !is_word_char((unsigned char)s[i - 1]) ||
                                  s[i - 1] == '-' || s[i - 1] == '.')) {
            found |= digits_at(s, len, i, &end);
        } else if (c == 'e' && jwt_at(s, len, i)) {
            found |= API_SENS_JWT;
        } else if (isupper(c) && i + 1 < len && isupper((unsigned char)s[i + 1])) {
            if (iban_at(s, len, i, &end)) {
                found |= API_SENS_IBAN;
            } else if (apikey_at(s, len, i)) {
                found |= API_SENS_APIKEY;
            }
            end = end > i + 1 ? end : i + 1;
        } else if (isalpha(c) && apikey_at(s, len, i)) {
            found |= API_SENS_APIKEY;
        }
        i = end > i ? end : i + 1;
    }
    return found;
}

/* ---- formats ---- */

static bool digits_n(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

static bool ipv4_valid(const char *s, size_t len)
{
    int parts = 0;
    size_t i = 0;
    while (i < len && parts < 4) {
        size_t start = i;
        int v = 0;
        while (i < len && isdigit((unsigned char)s[i]) && i - start < 3) {
            v = v * 10 + (s[i++] - '0');
        }
        if (i == start || v > 255) {
            return false;
        }
        parts++;
        if (i < len && s[i] == '.' && parts < 4) {
            i++;
        } else {
            break;
        }
    }
    return parts == 4 && i == len;
}

static bool ipv6_valid(const char *s, size_t len)
{
    if (len < 2 || len > 45 || memchr(s, ':', len) == NULL) {
        return false;
    }
    int colons = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == ':') {
            colons++;
        } else if (!isxdigit((unsigned char)s[i]) && s[i] != '.') {
            return false;
        }
    }
    return colons >= 2 && colons <= 7;
}

const char *api_string_format(const char *s, size_t len)
{
    if (len == 10 && digits_n(s, 4) && s[4] == '-' && digits_n(s + 5, 2) && s[7] == '-' &&
        digits_n(s + 8, 2)) {
        return "date";
    }
    if (len >= 19 && digits_n(s, 4) && s[4] == '-' && (s[10] == 'T' || s[10] == 't') &&
        s[13] == ':' && s[16] == ':') {
        struct timespec ts;
        char buf[64];
        if (len < sizeof buf) {
            memcpy(buf, s, len);
            buf[len] = '\0';
            if (vg_time_parse(buf, &ts)) {
                return "date-time";
            }
        }
    }
    if (len == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-') {
        char buf[37];
        memcpy(buf, s, 36);
        buf[36] = '\0';
        for (int i = 0; i < 36; i++) {
            buf[i] = (char)tolower((unsigned char)buf[i]);
        }
        if (vg_uuid_valid(buf)) {
            return "uuid";
        }
    }
    const char *at = memchr(s, '@', len);
    if (at != NULL && at > s && memchr(s, ' ', len) == NULL &&
        email_at(s, len, (size_t)(at - s), 1)) {
        return "email";
    }
    if (ipv4_valid(s, len)) {
        return "ipv4";
    }
    if (ipv6_valid(s, len)) {
        return "ipv6";
    }
    return NULL;
}

/* ---- schemas ---- */

static json_t *schema_infer_depth(const json_t *v, int depth)
{
    json_t *s = json_object();
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        json_object_set_new(s, "type", json_string("object"));
        if (depth >= 6) {
            break;
        }
        json_t *props = json_object();
        const char *k;
        json_t *m;
        size_t n = 0;
        json_object_foreach((json_t *)v, k, m)
        {
            if (n++ >= 64) {
                break;
            }
            json_object_set_new(props, k, schema_infer_depth(m, depth + 1));
        }
        json_object_set_new(s, "properties", props);
        break;
    }
    case JSON_ARRAY: {
        json_object_set_new(s, "type", json_string("array"));
        json_t *items = NULL;
        size_t i;
        json_t *m;
        json_array_foreach((json_t *)v, i, m)
        {
            if (i >= 16 || depth >= 6) {
                break;
            }
            json_t *one = schema_infer_depth(m, depth + 1);
            if (items == NULL) {
                items = one;
            } else {
                api_schema_merge(items, one);
                json_decref(one);
            }
        }
        json_object_set_new(s, "items", items != NULL ? items : json_object());
        break;
    }
    case JSON_STRING: {
        json_object_set_new(s, "type", json_string("string"));
        const char *f = api_string_format(json_string_value(v), json_string_length(v));
        if (f != NULL) {
            json_object_set_new(s, "format", json_string(f));
        }
        break;
    }
    case JSON_INTEGER:
        json_object_set_new(s, "type", json_string("integer"));
        break;
    case JSON_REAL:
        json_object_set_new(s, "type", json_string("number"));
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        json_object_set_new(s, "type", json_string("boolean"));
        break;
    case JSON_NULL:
        json_object_set_new(s, "nullable", json_true());
        break;
    }
    return s;
}

json_t *api_schema_infer(const json_t *value)
{
    return schema_infer_depth(value, 0);
}

static const char *type_of(const json_t *s)
{
    return json_string_value(json_object_get(s, "type"));
}

static void merge_depth(json_t *dst, const json_t *src, int depth)
{
    const char *dt = type_of(dst), *st = type_of(src);
    if (json_is_true(json_object_get(src, "nullable"))) {
        json_object_set_new(dst, "nullable", json_true());
    }
    if (st == NULL || depth > 8) {
        return;
    }
    if (dt == NULL) {
        json_object_update(dst, (json_t *)src);
        return;
    }
    if (strcmp(dt, st) != 0) {
        if ((strcmp(dt, "integer") == 0 && strcmp(st, "number") == 0)) {
            json_object_set_new(dst, "type", json_string("number"));
        }
        return; /* conflicting types: the first one seen stays */
    }
    const char *df = json_string_value(json_object_get(dst, "format"));
    const char *sf = json_string_value(json_object_get(src, "format"));
    if (df != NULL && (sf == NULL || strcmp(df, sf) != 0)) {
        json_object_del(dst, "format");
    }
    if (strcmp(dt, "object") == 0) {
        json_t *dp = json_object_get(dst, "properties");
        const json_t *sp = json_object_get(src, "properties");
        const char *k;
        json_t *m;
        if (dp == NULL && sp != NULL) {
            json_object_set(dst, "properties", (json_t *)sp);
            return;
        }
        json_object_foreach((json_t *)sp, k, m)
        {
            json_t *d = json_object_get(dp, k);
            if (d == NULL) {
                if (json_object_size(dp) < 128) {
                    json_object_set_new(dp, k, json_deep_copy(m));
                }
            } else {
                merge_depth(d, m, depth + 1);
            }
        }
    } else if (strcmp(dt, "array") == 0) {
        json_t *di = json_object_get(dst, "items");
        const json_t *si = json_object_get(src, "items");
        if (di != NULL && si != NULL) {
            merge_depth(di, si, depth + 1);
        }
    }
}

void api_schema_merge(json_t *dst, const json_t *src)
{
    merge_depth(dst, src, 0);
}

/* ---- authentication ---- */

static bool is_jwt(const char *s)
{
    return jwt_at(s, strlen(s), 0);
}

static bool query_has_key(const char *query)
{
    static const char *const names[] = {
        "api_key=", "apikey=", "api-key=", "access_token=", "key=", "token=", NULL};
    for (size_t i = 0; names[i] != NULL && query != NULL; i++) {
        const char *p = strstr(query, names[i]);
        if (p != NULL && (p == query || p[-1] == '&')) {
            return true;
        }
    }
    return false;
}

const char *api_auth_scheme(const json_t *headers, const char *query)
{
    size_t i;
    const json_t *h;
    const char *apikey = NULL;
    json_array_foreach(headers, i, h)
    {
        const char *k = json_string_value(json_object_get(h, "key"));
        const char *v = json_string_value(json_object_get(h, "value"));
        if (k == NULL || v == NULL) {
            continue;
        }
        if (strcasecmp(k, "authorization") == 0) {
            if (strncasecmp(v, "Basic ", 6) == 0) {
                return "basic";
            }
            if (strncasecmp(v, "Bearer ", 7) == 0) {
                return is_jwt(v + 7) ? "jwt" : "bearer";
            }
            return "apikey";
        }
        if (strcasecmp(k, "x-api-key") == 0 || strcasecmp(k, "api-key") == 0 ||
            strcasecmp(k, "apikey") == 0 || strcasecmp(k, "x-auth-token") == 0) {
            apikey = "apikey";
        }
    }
    if (apikey != NULL || query_has_key(query)) {
        return "apikey";
    }
    return "none";
}
