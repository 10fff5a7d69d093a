/* YAML flow collections ([a, b], {k: v}) and quoted scalars (see yaml_internal.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/alloc.h"
#include "yaml_internal.h"

typedef struct yflow {
    yparser *p;
    const char *s;
    size_t len, pos;
    int no; /* line of s[0] */
    int depth;
} yflow;

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Skips a quoted scalar starting at s[i]; returns the index after it or 0 when unterminated. */
static size_t skip_quoted(const char *s, size_t len, size_t i)
{
    char q = s[i];
    for (i++; i < len; i++) {
        if (q == '"' && s[i] == '\\') {
            i++;
        } else if (s[i] == q) {
            if (q == '\'' && i + 1 < len && s[i + 1] == '\'') {
                i++;
                continue;
            }
            return i + 1;
        }
    }
    return 0;
}

static bool quote_starts(const char *s, size_t i)
{
    return i == 0 || strchr("[{,: \t\n", s[i - 1]) != NULL;
}

bool yaml_complete(const char *s, size_t len)
{
    if (s[0] == '"' || s[0] == '\'') {
        return skip_quoted(s, len, 0) != 0;
    }
    int depth = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if ((c == '"' || c == '\'') && quote_starts(s, i)) {
            size_t end = skip_quoted(s, len, i);
            if (end == 0) {
                return false;
            }
            i = end - 1;
        } else if (c == '#' && i > 0 && is_space(s[i - 1])) {
            while (i < len && s[i] != '\n') {
                i++;
            }
        } else if (c == '[' || c == '{') {
            depth++;
        } else if ((c == ']' || c == '}') && --depth == 0) {
            return true;
        }
    }
    return false;
}

static void put_utf8(vg_buf *b, uint32_t cp)
{
    unsigned char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (unsigned char)cp, n = 1;
    } else if (cp < 0x800) {
        u[0] = (unsigned char)(0xC0 | (cp >> 6)), u[1] = (unsigned char)(0x80 | (cp & 0x3F)), n = 2;
    } else if (cp < 0x10000) {
        u[0] = (unsigned char)(0xE0 | (cp >> 12));
        u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (unsigned char)(0x80 | (cp & 0x3F)), n = 3;
    } else {
        u[0] = (unsigned char)(0xF0 | (cp >> 18));
        u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (unsigned char)(0x80 | (cp & 0x3F)), n = 4;
    }
    vg_buf_append(b, u, n);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* A \x, \u or \U escape of `digits` hex digits at s[*i]; false when invalid. */
static bool escape_hex(const char *s, size_t len, size_t *i, int digits, vg_buf *b)
{
    uint32_t cp = 0;
    for (int d = 0; d < digits; d++) {
        int v = *i + 1 + (size_t)d < len ? hexval(s[*i + 1 + (size_t)d]) : -1;
        if (v < 0) {
            return false;
        }
        cp = cp * 16 + (uint32_t)v;
    }
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return false;
    }
    put_utf8(b, cp);
    *i += (size_t)digits;
    return true;
}

static bool escape(const char *s, size_t len, size_t *i, vg_buf *b)
{
    static const char from[] = "abtnvfre \"/\\\t";
    static const char to[] = "\a\b\t\n\v\f\r\x1b \"/\\\t";
    char c = s[*i];
    const char *hit = c ? strchr(from, c) : NULL;
    if (hit != NULL) {
        vg_buf_append(b, &to[hit - from], 1);
        return true;
    }
    switch (c) {
    case 'N':
        put_utf8(b, 0x85);
        return true;
    case '_':
        put_utf8(b, 0xA0);
        return true;
    case 'L':
        put_utf8(b, 0x2028);
        return true;
    case 'P':
        put_utf8(b, 0x2029);
        return true;
    case 'x':
        return escape_hex(s, len, i, 2, b);
    case 'u':
        return escape_hex(s, len, i, 4, b);
    case 'U':
        return escape_hex(s, len, i, 8, b);
    default:
        return false;
    }
}

/* A line break inside a quoted scalar: trailing spaces dropped, one break folds to a space,
 * n breaks give n-1 newlines, leading spaces of the next line dropped. */
static void fold_break(const char *s, size_t len, size_t *i, vg_buf *b)
{
    while (b->len > 0 && (b->data[b->len - 1] == ' ' || b->data[b->len - 1] == '\t')) {
        b->data[--b->len] = '\0';
    }
    int breaks = 0;
    while (*i < len && is_space(s[*i])) {
        breaks += s[*i] == '\n';
        (*i)++;
    }
    if (breaks <= 1) {
        vg_buf_puts(b, " ");
    }
    for (int k = 1; k < breaks; k++) {
        vg_buf_puts(b, "\n");
    }
    (*i)--;
}

/* Decodes the body of a quoted scalar into b; returns the index after the closing quote. */
static size_t quoted_body(yparser *p, int no, const char *s, size_t len, vg_buf *b)
{
    char q = s[0];
    for (size_t i = 1; i < len; i++) {
        char c = s[i];
        if (c == q && q == '\'' && i + 1 < len && s[i + 1] == '\'') {
            vg_buf_puts(b, "'");
            i++;
        } else if (c == q) {
            return i + 1;
        } else if (c == '\\' && q == '"') {
            i++;
            if (i < len && s[i] == '\n') { /* escaped line break: joined without a space */
                while (i + 1 < len && (s[i + 1] == ' ' || s[i + 1] == '\t')) {
                    i++;
                }
            } else if (i >= len || !escape(s, len, &i, b)) {
                yaml_fail(p, no, "invalid escape sequence in a double-quoted scalar");
                return 0;
            }
        } else if (c == '\n' || c == '\r') {
            fold_break(s, len, &i, b);
        } else {
            vg_buf_append(b, &c, 1);
        }
    }
    yaml_fail(p, no, "unterminated quoted scalar");
    return 0;
}

json_t *yaml_quoted(yparser *p, int no, const char *s, size_t len, size_t *used)
{
    vg_buf b = {0};
    size_t end = quoted_body(p, no, s, len, &b);
    json_t *out = NULL;
    if (end != 0) {
        out = json_stringn(b.data ? b.data : "", b.len);
        if (out == NULL) {
            yaml_fail(p, no, "invalid UTF-8 in a quoted scalar");
        }
        *used = end;
    }
    vg_buf_free(&b);
    return out;
}

static int flow_line(const yflow *f)
{
    int line = f->no;
    for (size_t i = 0; i < f->pos && i < f->len; i++) {
        line += f->s[i] == '\n';
    }
    return line;
}

static void flow_ws(yflow *f)
{
    while (f->pos < f->len) {
        char c = f->s[f->pos];
        if (is_space(c)) {
            f->pos++;
        } else if (c == '#' && (f->pos == 0 || is_space(f->s[f->pos - 1]))) {
            while (f->pos < f->len && f->s[f->pos] != '\n') {
                f->pos++;
            }
        } else {
            break;
        }
    }
}

static json_t *flow_value(yflow *f);

/* A plain scalar in flow context: ends at , [ ] { } or ": " (and a comment). */
static json_t *flow_plain(yflow *f, bool key)
{
    size_t start = f->pos;
    while (f->pos < f->len) {
        char c = f->s[f->pos];
        if (strchr(",[]{}", c) != NULL) {
            break;
        }
        if (c == ':' && (f->pos + 1 == f->len || strchr(" \t\n,]}", f->s[f->pos + 1]))) {
            break;
        }
        if (c == '#' && f->pos > start && is_space(f->s[f->pos - 1])) {
            break;
        }
        f->pos++;
    }
    size_t end = f->pos;
    while (end > start && is_space(f->s[end - 1])) {
        end--;
    }
    if (end == start && !key) {
        yaml_fail(f->p, flow_line(f), "expected a value in a flow collection");
        return NULL;
    }
    json_t *out = key ? json_stringn(f->s + start, end - start)
                      : yaml_resolve_plain(f->s + start, end - start);
    if (out == NULL) {
        yaml_fail(f->p, flow_line(f), "invalid UTF-8 in a flow scalar");
    }
    return out;
}

static json_t *flow_scalar(yflow *f, bool key)
{
    char c = f->s[f->pos];
    if (c == '"' || c == '\'') {
        size_t used = 0;
        json_t *out = yaml_quoted(f->p, flow_line(f), f->s + f->pos, f->len - f->pos, &used);
        f->pos += used;
        return out;
    }
    if (c == '&' || c == '*' || c == '!') {
        yaml_fail(f->p, flow_line(f), "anchors, aliases and tags are not supported");
        return NULL;
    }
    return flow_plain(f, key);
}

/* After an item: ',' (returns true to go on) or the closing bracket (false). */
static bool flow_next(yflow *f, char close, bool *more)
{
    flow_ws(f);
    if (f->pos < f->len && f->s[f->pos] == ',') {
        f->pos++;
        *more = true;
        return true;
    }
    if (f->pos < f->len && f->s[f->pos] == close) {
        f->pos++;
        *more = false;
        return true;
    }
    yaml_fail(f->p, flow_line(f), "expected ',' or '%c' in a flow collection", close);
    return false;
}

static json_t *flow_seq(yflow *f)
{
    json_t *arr = json_array();
    f->pos++;
    bool more = true;
    while (more && !f->p->failed) {
        flow_ws(f);
        if (f->pos < f->len && f->s[f->pos] == ']') {
            f->pos++;
            break;
        }
        json_t *v = flow_value(f);
        if (v == NULL) {
            break;
        }
        json_array_append_new(arr, v);
        if (!flow_next(f, ']', &more)) {
            break;
        }
    }
    if (f->p->failed) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

/* One "key: value" pair of a flow mapping into obj; false on failure. */
static bool flow_pair(yflow *f, json_t *obj)
{
    json_t *key = flow_scalar(f, true);
    if (key == NULL) {
        return false;
    }
    json_t *val = NULL;
    const char *k = json_string_value(key);
    flow_ws(f);
    if (k == NULL || strlen(k) != json_string_length(key)) {
        yaml_fail(f->p, flow_line(f), "flow mapping keys must be strings without NUL");
    } else if (json_object_get(obj, k) != NULL) {
        yaml_fail(f->p, flow_line(f), "duplicate key \"%.80s\"", k);
    } else if (f->pos < f->len && f->s[f->pos] == ':') {
        f->pos++;
        flow_ws(f);
        bool empty = f->pos >= f->len || f->s[f->pos] == ',' || f->s[f->pos] == '}';
        val = empty ? json_null() : flow_value(f);
    } else {
        val = json_null(); /* {a, b}: keys with null values */
    }
    if (val != NULL && !f->p->failed) {
        json_object_set_new(obj, k, val);
    } else {
        json_decref(val);
    }
    json_decref(key);
    return !f->p->failed;
}

static json_t *flow_map(yflow *f)
{
    json_t *obj = json_object();
    f->pos++;
    bool more = true;
    while (more && !f->p->failed) {
        flow_ws(f);
        if (f->pos < f->len && f->s[f->pos] == '}') {
            f->pos++;
            break;
        }
        if (!flow_pair(f, obj) || !flow_next(f, '}', &more)) {
            break;
        }
    }
    if (f->p->failed) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

static json_t *flow_value(yflow *f)
{
    flow_ws(f);
    if (f->pos >= f->len) {
        yaml_fail(f->p, flow_line(f), "unexpected end of a flow collection");
        return NULL;
    }
    if (++f->depth > YAML_MAX_DEPTH) {
        yaml_fail(f->p, flow_line(f), "nesting deeper than %d levels", YAML_MAX_DEPTH);
        return NULL;
    }
    json_t *out;
    char c = f->s[f->pos];
    if (c == '[') {
        out = flow_seq(f);
    } else if (c == '{') {
        out = flow_map(f);
    } else {
        out = flow_scalar(f, false);
    }
    f->depth--;
    return out;
}

json_t *yaml_flow(yparser *p, int no, const char *s, size_t len)
{
    yflow f = {.p = p, .s = s, .len = len, .no = no};
    json_t *out = flow_value(&f);
    if (out != NULL) {
        flow_ws(&f);
        if (f.pos < f.len) {
            yaml_fail(p, flow_line(&f), "unexpected text after a flow collection");
            json_decref(out);
            out = NULL;
        }
    }
    return out;
}
