/* Route patterns for the HTTP server: "/api/v1/clusters/{id}" style segments, a final "*"
 * for the rest of the path, and per-segment percent-decoding of request paths. */
#include "http_route.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/alloc.h"

static void route_bug(const char *what, const char *pattern)
{
    fprintf(stderr, "{\"level\":\"error\",\"msg\":\"http route: %s\",\"pattern\":\"%s\"}\n", what,
            pattern ? pattern : "(null)");
    abort();
}

static size_t count_char(const char *s, char c)
{
    size_t n = 0;
    for (; *s; s++) {
        n += (*s == c);
    }
    return n;
}

/* Escapes backslash, double quote and newline for a label value. New string. */
static char *label_escape(const char *s)
{
    vg_buf b = {0};
    for (; *s; s++) {
        if (*s == '\\' || *s == '"') {
            vg_buf_printf(&b, "\\%c", *s);
        } else if (*s == '\n') {
            vg_buf_puts(&b, "\\n");
        } else {
            vg_buf_append(&b, s, 1);
        }
    }
    return vg_buf_steal(&b);
}

static bool segment_is_param(const char *seg)
{
    size_t len = strlen(seg);
    return len > 2 && seg[0] == '{' && seg[len - 1] == '}';
}

http_route *http_route_new(const char *method, const char *pattern, vg_http_handler fn, void *arg)
{
    if (pattern == NULL || pattern[0] != '/' || fn == NULL) {
        route_bug("pattern must start with '/' and have a handler", pattern);
    }
    http_route *r = vg_calloc(1, sizeof *r);
    r->method = method;
    r->pattern = pattern;
    r->fn = fn;
    r->arg = arg;
    r->label = label_escape(pattern);
    r->segs = vg_calloc(count_char(pattern, '/'), sizeof *r->segs);
    const char *p = pattern + 1;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        char *seg = vg_strndup(p, len);
        if (strcmp(seg, "*") == 0) {
            free(seg);
            if (slash != NULL) {
                route_bug("'*' must be the last segment", pattern);
            }
            r->wildcard = true;
            break;
        }
        if (strchr(seg, '*') != NULL || (seg[0] == '{' && !segment_is_param(seg))) {
            route_bug("malformed segment", pattern);
        }
        r->segs[r->nsegs++] = seg;
        if (slash == NULL) {
            break;
        }
        p = slash + 1;
    }
    return r;
}

void http_route_destroy(http_route *r)
{
    if (r == NULL) {
        return;
    }
    for (size_t i = 0; i < r->nsegs; i++) {
        free(r->segs[i]);
    }
    free(r->segs);
    free(r->label);
    free(r->counters);
    free(r);
}

static int hex_value(char c)
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

/* Decodes %XX in place ('+' stays '+' in paths); a malformed escape is kept literally.
 * Returns false when a byte decodes to NUL. */
static bool percent_decode(char *s)
{
    char *out = s;
    for (const char *in = s; *in; in++) {
        int hi, lo;
        if (in[0] == '%' && (hi = hex_value(in[1])) >= 0 && (lo = hex_value(in[2])) >= 0) {
            if (hi == 0 && lo == 0) {
                return false;
            }
            *out++ = (char)(hi * 16 + lo);
            in += 2;
        } else {
            *out++ = *in;
        }
    }
    *out = '\0';
    return true;
}

bool http_path_split(const char *raw, http_path *out)
{
    memset(out, 0, sizeof *out);
    if (raw == NULL || raw[0] != '/') {
        return false;
    }
    out->buf = vg_strdup(raw + 1);
    out->segs = vg_calloc(count_char(raw, '/'), sizeof *out->segs);
    char *p = out->buf;
    for (;;) {
        char *slash = strchr(p, '/');
        if (slash != NULL) {
            *slash = '\0';
        }
        if (!percent_decode(p)) {
            http_path_free(out);
            return false;
        }
        out->segs[out->nsegs++] = p;
        if (slash == NULL) {
            return true;
        }
        p = slash + 1;
    }
}

void http_path_free(http_path *p)
{
    free(p->buf);
    free(p->segs);
    memset(p, 0, sizeof *p);
}

bool http_route_match_path(const http_route *r, const http_path *p)
{
    if (r->wildcard ? p->nsegs < r->nsegs : p->nsegs != r->nsegs) {
        return false;
    }
    for (size_t i = 0; i < r->nsegs; i++) {
        if (segment_is_param(r->segs[i])) {
            if (p->segs[i][0] == '\0') {
                return false; /* {name} matches one non-empty segment */
            }
        } else if (strcmp(r->segs[i], p->segs[i]) != 0) {
            return false;
        }
    }
    return true;
}

bool http_route_method_ok(const http_route *r, const char *method)
{
    if (r->method == NULL || strcmp(r->method, method) == 0) {
        return true;
    }
    return strcmp(method, "HEAD") == 0 && strcmp(r->method, "GET") == 0;
}

static char *join_rest(const http_path *p, size_t from)
{
    vg_buf b = {0};
    for (size_t i = from; i < p->nsegs; i++) {
        if (i > from) {
            vg_buf_puts(&b, "/");
        }
        vg_buf_puts(&b, p->segs[i]);
    }
    return vg_buf_steal(&b);
}

size_t http_route_bind(const http_route *r, const http_path *p, http_param *params, char **rest)
{
    size_t n = 0;
    *rest = NULL;
    for (size_t i = 0; i < r->nsegs && n < HTTP_MAX_PARAMS; i++) {
        if (segment_is_param(r->segs[i])) {
            params[n].name = r->segs[i];
            params[n].value = p->segs[i];
            n++;
        }
    }
    if (r->wildcard) {
        *rest = join_rest(p, r->nsegs);
        if (n < HTTP_MAX_PARAMS) {
            params[n].name = "*";
            params[n].value = *rest;
            n++;
        }
    }
    return n;
}
