/* YAML scalars in block context, block scalars (| and >) and mapping entries
 * (see yaml_internal.h). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/alloc.h"
#include "yaml_internal.h"

static bool is_ws(char c)
{
    return c == ' ' || c == '\t';
}

long yaml_find_colon(const char *s, size_t len)
{
    if (len == 0 || strchr("[{#|>&*!%@`", s[0]) != NULL) {
        return -1;
    }
    size_t k = 0;
    if (s[0] == '"' || s[0] == '\'') {
        for (k = 1; k < len && s[k] != s[0]; k++) {
            if (s[0] == '"' && s[k] == '\\') {
                k++;
            } else if (s[0] == '\'' && s[k] == '\'' && k + 1 < len && s[k + 1] == '\'') {
                k++;
            }
        }
        if (k >= len) {
            return -1;
        }
        for (k++; k < len && is_ws(s[k]); k++) {
        }
        return k < len && s[k] == ':' && (k + 1 == len || is_ws(s[k + 1])) ? (long)k : -1;
    }
    for (k = 0; k < len; k++) {
        if (s[k] == '#' && k > 0 && is_ws(s[k - 1])) {
            return -1;
        }
        if (s[k] == ':' && (k + 1 == len || is_ws(s[k + 1]))) {
            return (long)k;
        }
    }
    return -1;
}

static bool all_digits(const char *s, size_t len, const char *set)
{
    if (len == 0) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (strchr(set, s[i]) == NULL) {
            return false;
        }
    }
    return true;
}

static bool is_float(const char *s, size_t len)
{
    size_t i = 0, digits = 0;
    if (i < len && (s[i] == '-' || s[i] == '+')) {
        i++;
    }
    for (; i < len && isdigit((unsigned char)s[i]); i++, digits++) {
    }
    if (i < len && s[i] == '.') {
        for (i++; i < len && isdigit((unsigned char)s[i]); i++, digits++) {
        }
    }
    if (digits == 0) {
        return false;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '-' || s[i] == '+')) {
            i++;
        }
        if (i == len || !isdigit((unsigned char)s[i])) {
            return false;
        }
        for (; i < len && isdigit((unsigned char)s[i]); i++) {
        }
    }
    return i == len;
}

static json_t *resolve_number(const char *t, size_t len)
{
    size_t sign = (t[0] == '-' || t[0] == '+') ? 1 : 0;
    int base = 0;
    const char *digits = t + sign;
    size_t dlen = len - sign;
    if (all_digits(digits, dlen, "0123456789")) {
        base = 10;
    } else if (sign == 0 && len > 2 && t[0] == '0' && t[1] == 'x' &&
               all_digits(t + 2, len - 2, "0123456789abcdefABCDEF")) {
        base = 16, digits = t + 2;
    } else if (sign == 0 && len > 2 && t[0] == '0' && t[1] == 'o' &&
               all_digits(t + 2, len - 2, "01234567")) {
        base = 8, digits = t + 2;
    }
    if (base != 0) {
        errno = 0;
        long long v = strtoll(base == 10 ? t : digits, NULL, base);
        if (errno == 0) {
            return json_integer(v);
        }
    }
    if (is_float(t, len)) {
        double d = strtod(t, NULL);
        if (isfinite(d)) {
            return json_real(d);
        }
    }
    return NULL;
}

json_t *yaml_resolve_plain(const char *s, size_t len)
{
    char *t = vg_strndup(s, len);
    json_t *out = NULL;
    if (len == 0 || strcmp(t, "~") == 0 || strcmp(t, "null") == 0 || strcmp(t, "Null") == 0 ||
        strcmp(t, "NULL") == 0) {
        out = json_null();
    } else if (strcmp(t, "true") == 0 || strcmp(t, "True") == 0 || strcmp(t, "TRUE") == 0) {
        out = json_true();
    } else if (strcmp(t, "false") == 0 || strcmp(t, "False") == 0 || strcmp(t, "FALSE") == 0) {
        out = json_false();
    } else {
        out = resolve_number(t, len);
    }
    if (out == NULL) {
        out = json_stringn(s, len);
    }
    free(t);
    return out;
}

/* The plain text of one line: up to a " #" comment, trailing whitespace trimmed. */
static size_t plain_len(const char *s, size_t len)
{
    size_t k = 0;
    for (; k < len; k++) {
        if (s[k] == '#' && k > 0 && is_ws(s[k - 1])) {
            break;
        }
    }
    while (k > 0 && is_ws(s[k - 1])) {
        k--;
    }
    return k;
}

static bool plain_has_mapping(const char *s, size_t len)
{
    for (size_t k = 0; k < len; k++) {
        if (s[k] == ':' && (k + 1 == len || is_ws(s[k + 1]))) {
            return true;
        }
    }
    return false;
}

static json_t *plain_value(yparser *p, int ind, const char *s, size_t len, int no)
{
    size_t n = plain_len(s, len);
    if (s[0] == '?' && (n == 1 || is_ws(s[1]))) {
        yaml_fail(p, no, "complex keys (\"? \") are not supported");
        return NULL;
    }
    if (plain_has_mapping(s, n) || yaml_is_seq_item(s, n)) {
        yaml_fail(p, no, "a mapping or sequence cannot start inside this value (quote it)");
        return NULL;
    }
    vg_buf b = {0};
    vg_buf_append(&b, s, n);
    bool multi = false;
    for (size_t j = p->i; j < p->n; j++) {
        yline *l = &p->lines[j];
        if (l->blank) {
            continue;
        }
        if (l->indent <= ind || l->tab_indent ||
            (l->indent == 0 && l->len >= 3 &&
             (memcmp(l->s, "---", 3) == 0 || memcmp(l->s, "...", 3) == 0))) {
            break;
        }
        const char *t = l->s + l->indent;
        size_t tn = plain_len(t, l->len - (size_t)l->indent);
        if (plain_has_mapping(t, tn)) {
            yaml_fail(p, l->no, "unexpected \"key: value\" inside a multi-line plain scalar");
            vg_buf_free(&b);
            return NULL;
        }
        vg_buf_puts(&b, " ");
        vg_buf_append(&b, t, tn);
        multi = true;
        p->i = j + 1;
    }
    json_t *out =
        multi ? json_stringn(b.data, b.len) : yaml_resolve_plain(b.data ? b.data : "", b.len);
    vg_buf_free(&b);
    if (out == NULL) {
        yaml_fail(p, no, "invalid UTF-8 in a scalar");
    }
    return out;
}

/* Quoted scalars and flow collections: gathers following lines until the value is complete. */
static json_t *gathered_value(yparser *p, const char *s, size_t len, int no)
{
    vg_buf b = {0};
    vg_buf_append(&b, s, len);
    while (!yaml_complete(b.data, b.len)) {
        if (p->i >= p->n) {
            yaml_fail(p, no, "unterminated %s starting here",
                      s[0] == '[' || s[0] == '{' ? "flow collection" : "quoted scalar");
            vg_buf_free(&b);
            return NULL;
        }
        vg_buf_puts(&b, "\n");
        vg_buf_append(&b, p->lines[p->i].s, p->lines[p->i].len);
        p->i++;
    }
    json_t *out = NULL;
    if (s[0] == '[' || s[0] == '{') {
        out = yaml_flow(p, no, b.data, b.len);
    } else {
        size_t used = 0;
        out = yaml_quoted(p, no, b.data, b.len, &used);
        if (out != NULL && plain_len(b.data + used, b.len - used) != 0 && !is_ws(b.data[used]) &&
            b.data[used] != '\n') {
            yaml_fail(p, no, "unexpected text after a quoted scalar");
        } else if (out != NULL) {
            const char *rest = b.data + used;
            size_t rl = b.len - used;
            while (rl > 0 && (is_ws(*rest) || *rest == '\n')) {
                rest++, rl--;
            }
            if (rl > 0 && *rest != '#') {
                yaml_fail(p, no, "unexpected text after a quoted scalar");
            }
        }
        if (p->failed) {
            json_decref(out);
            out = NULL;
        }
    }
    vg_buf_free(&b);
    return out;
}

typedef struct block_header {
    char style; /* '|' or '>' */
    char chomp; /* '-', '+' or 0 (clip) */
    int explicit_indent;
} block_header;

static bool block_header_parse(yparser *p, const char *s, size_t len, int no, block_header *h)
{
    memset(h, 0, sizeof *h);
    h->style = s[0];
    size_t k = 1;
    for (int round = 0; round < 2 && k < len; round++) {
        if ((s[k] == '-' || s[k] == '+') && h->chomp == 0) {
            h->chomp = s[k++];
        } else if (s[k] >= '1' && s[k] <= '9' && h->explicit_indent == 0) {
            h->explicit_indent = s[k++] - '0';
        }
    }
    size_t r = k;
    while (r < len && is_ws(s[r])) {
        r++;
    }
    if (r < len && !(s[r] == '#' && r > k)) {
        yaml_fail(p, no,
                  "invalid block scalar header (expected | or > with optional -/+ and "
                  "an indentation digit)");
        return false;
    }
    return true;
}

/* Content indentation: explicit, or that of the first non-empty line (0 = no content). */
static int block_indent(const yparser *p, int ind, const block_header *h)
{
    if (h->explicit_indent) {
        return (ind < 0 ? 0 : ind) + h->explicit_indent;
    }
    for (size_t j = p->i; j < p->n; j++) {
        if (!p->lines[j].empty) {
            return p->lines[j].indent > ind ? p->lines[j].indent : 0;
        }
    }
    return 0;
}

static void fold_line(vg_buf *b, const char *t, size_t tn, int *pending, bool *prev_more,
                      bool first, char style)
{
    bool more = tn > 0 && is_ws(t[0]);
    if (!first) {
        if (style == '|' || more || *prev_more) {
            for (int k = 0; k <= *pending; k++) {
                vg_buf_puts(b, "\n");
            }
        } else if (*pending > 0) {
            for (int k = 0; k < *pending; k++) {
                vg_buf_puts(b, "\n");
            }
        } else {
            vg_buf_puts(b, " ");
        }
    } else {
        for (int k = 0; k < *pending; k++) {
            vg_buf_puts(b, "\n");
        }
    }
    vg_buf_append(b, t, tn);
    *pending = 0;
    *prev_more = more;
}

static json_t *block_scalar(yparser *p, int ind, const char *s, size_t len, int no)
{
    block_header h;
    if (!block_header_parse(p, s, len, no, &h)) {
        return NULL;
    }
    int cind = block_indent(p, ind, &h);
    vg_buf b = {0};
    int pending = 0;
    bool prev_more = false, any = false;
    for (; cind > 0 && p->i < p->n; p->i++) {
        const yline *l = &p->lines[p->i];
        size_t spaces = 0;
        while (spaces < l->len && l->s[spaces] == ' ') {
            spaces++;
        }
        /* empty lines: only spaces up to the content indentation (more spaces are content) */
        if ((spaces == l->len && (int)spaces <= cind) || (l->empty && (int)spaces < cind)) {
            pending++;
            continue;
        }
        if ((int)spaces < cind) {
            break;
        }
        fold_line(&b, l->s + cind, l->len - (size_t)cind, &pending, &prev_more, !any, h.style);
        any = true;
    }
    if (h.chomp == '+') {
        vg_buf_puts(&b, any ? "\n" : "");
        for (int k = 0; k < pending; k++) {
            vg_buf_puts(&b, "\n");
        }
    } else if (h.chomp == 0 && any) {
        vg_buf_puts(&b, "\n");
    }
    json_t *out = json_stringn(b.data ? b.data : "", b.len);
    vg_buf_free(&b);
    if (out == NULL) {
        yaml_fail(p, no, "invalid UTF-8 in a block scalar");
    }
    return out;
}

json_t *yaml_value(yparser *p, int ind, const char *s, size_t len, int no, bool in_map)
{
    if (len == 0 || s[0] == '#') {
        size_t j = p->i;
        while (j < p->n && p->lines[j].blank) {
            j++;
        }
        if (j < p->n && p->lines[j].indent > ind) {
            return yaml_parse_block(p, ind);
        }
        const yline *l = j < p->n ? &p->lines[j] : NULL;
        if (in_map && l != NULL && l->indent == ind && !l->tab_indent &&
            yaml_is_seq_item(l->s + l->indent, l->len - (size_t)l->indent)) {
            return yaml_parse_seq_at(p, ind);
        }
        return json_null();
    }
    switch (s[0]) {
    case '|':
    case '>':
        return block_scalar(p, ind, s, len, no);
    case '&':
    case '*':
    case '!':
        yaml_fail(p, no, "anchors, aliases and tags are not supported");
        return NULL;
    case '@':
    case '`':
        yaml_fail(p, no, "'%c' is reserved and cannot start a plain scalar", s[0]);
        return NULL;
    case '[':
    case '{':
    case '"':
    case '\'':
        return gathered_value(p, s, len, no);
    default:
        return plain_value(p, ind, s, len, no);
    }
}

static json_t *map_key(yparser *p, const char *s, size_t klen, int no)
{
    if (s[0] == '"' || s[0] == '\'') {
        size_t used = 0;
        return yaml_quoted(p, no, s, klen, &used);
    }
    if (s[0] == '&' || s[0] == '*' || s[0] == '!') {
        yaml_fail(p, no, "anchors, aliases and tags are not supported");
        return NULL;
    }
    while (klen > 0 && is_ws(s[klen - 1])) {
        klen--;
    }
    json_t *k = json_stringn(s, klen);
    if (k == NULL) {
        yaml_fail(p, no, "invalid UTF-8 in a key");
    }
    return k;
}

bool yaml_map_entry(yparser *p, json_t *obj, int ind, size_t i)
{
    const yline *l = &p->lines[i];
    const char *s = l->s + l->indent;
    size_t len = l->len - (size_t)l->indent;
    if (s[0] == '?' && (len == 1 || is_ws(s[1]))) {
        yaml_fail(p, l->no, "complex keys (\"? \") are not supported");
        return false;
    }
    long c = yaml_find_colon(s, len);
    if (yaml_is_seq_item(s, len) || c < 0) {
        yaml_fail(p, l->no, "expected \"key: value\"%s",
                  yaml_is_seq_item(s, len) ? " (found a sequence item)" : "");
        return false;
    }
    json_t *key = map_key(p, s, (size_t)c, l->no);
    if (key == NULL) {
        return false;
    }
    const char *k = json_string_value(key);
    if (strlen(k) != json_string_length(key)) {
        yaml_fail(p, l->no, "NUL characters are not allowed in keys");
    } else if (json_object_get(obj, k) != NULL) {
        yaml_fail(p, l->no, "duplicate key \"%.80s\"", k);
    }
    json_t *val = NULL;
    if (!p->failed) {
        size_t r = (size_t)c + 1;
        while (r < len && is_ws(s[r])) {
            r++;
        }
        p->i = i + 1;
        val = yaml_value(p, ind, s + r, len - r, l->no, true);
    }
    if (val != NULL) {
        json_object_set_new(obj, k, val);
    }
    json_decref(key);
    return !p->failed && val != NULL;
}
