/* Redaction and curl lines; see redact.h. */
#include "redact.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vigil/alloc.h"

static const char *const secret_headers[] = {
    "authorization", "proxy-authorization", "cookie",         "set-cookie",   "x-api-key",
    "api-key",       "x-auth-token",        "x-access-token", "x-csrf-token", NULL,
};

static const char *const secret_keys[] = {
    "password",      "passwd",
    "pwd",           "secret",
    "token",         "api_key",
    "apikey",        "access_token",
    "refresh_token", "password_hash",
    "client_secret", "private_key",
    "authorization", NULL,
};

bool fz_header_is_secret(const char *name)
{
    for (int i = 0; secret_headers[i] != NULL; i++) {
        if (strcasecmp(name, secret_headers[i]) == 0) {
            return true;
        }
    }
    return strcasestr(name, "token") != NULL || strcasestr(name, "secret") != NULL ||
           strcasestr(name, "api-key") != NULL || strcasestr(name, "apikey") != NULL;
}

char *fz_redact_header_line(const char *line)
{
    const char *colon = strchr(line, ':');
    if (colon == NULL) {
        return vg_strdup(line);
    }
    char *name = vg_strndup(line, (size_t)(colon - line));
    bool secret = fz_header_is_secret(name);
    char *out = secret ? vg_asprintf("%s: <redacted>", name) : vg_strdup(line);
    free(name);
    return out;
}

static bool b64url_char(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '_';
}

/* Length of a JWT-looking run at p ("eyJ" + b64url '.' b64url '.' b64url*), else 0. */
static size_t jwt_len(const char *p, const char *end)
{
    if (end - p < 10 || strncmp(p, "eyJ", 3) != 0) {
        return 0;
    }
    const char *q = p;
    int dots = 0;
    while (q < end && (b64url_char(*q) || (*q == '.' && dots < 2))) {
        dots += *q == '.';
        q++;
    }
    return dots == 2 ? (size_t)(q - p) : 0;
}

static bool key_is_secret(const char *key, size_t len)
{
    for (int i = 0; secret_keys[i] != NULL; i++) {
        size_t kl = strlen(secret_keys[i]);
        if (len >= kl && strncasecmp(key + len - kl, secret_keys[i], kl) == 0) {
            return true;
        }
    }
    return false;
}

/* At p = '"key"' followed by ':' and a string value: appends the key with a redacted value
 * and returns the bytes consumed, or 0 when the key is not secret. */
static size_t redact_json_pair(vg_buf *out, const char *p, const char *end)
{
    const char *kend = memchr(p + 1, '"', (size_t)(end - p - 1));
    if (kend == NULL || !key_is_secret(p + 1, (size_t)(kend - p - 1))) {
        return 0;
    }
    const char *v = kend + 1;
    while (v < end && (*v == ' ' || *v == ':')) {
        v++;
    }
    if (v >= end || *v != '"' || v == kend + 1) {
        return 0;
    }
    const char *vend = v + 1;
    while (vend < end && *vend != '"') {
        vend += (*vend == '\\' && vend + 1 < end) ? 2 : 1;
    }
    if (vend >= end) {
        return 0;
    }
    vg_buf_append(out, p, (size_t)(v - p));
    vg_buf_puts(out, "\"<redacted>\"");
    return (size_t)(vend + 1 - p);
}

char *fz_redact_text(const char *text, size_t len, size_t max)
{
    vg_buf out = {0};
    const char *end = text + (len < max ? len : max);
    const char *p = text;
    while (p < end) {
        size_t n = jwt_len(p, end);
        if (n > 0) {
            vg_buf_puts(&out, "<redacted-jwt>");
            p += n;
            continue;
        }
        if (*p == '"' && (n = redact_json_pair(&out, p, end)) > 0) {
            p += n;
            continue;
        }
        if (end - p > 7 && strncasecmp(p, "bearer ", 7) == 0) {
            vg_buf_puts(&out, "Bearer <redacted>");
            p += 7;
            while (p < end && !isspace((unsigned char)*p) && *p != '"') {
                p++;
            }
            continue;
        }
        vg_buf_append(&out, p, 1);
        p++;
    }
    if (len > max) {
        vg_buf_printf(&out, "...[%zu bytes]", len);
    }
    if (out.data == NULL) {
        vg_buf_puts(&out, "");
    }
    return vg_buf_steal(&out);
}

char *fz_shell_quote(const char *s)
{
    vg_buf out = {0};
    vg_buf_puts(&out, "'");
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == '\'') {
            vg_buf_puts(&out, "'\\''");
        } else {
            vg_buf_append(&out, p, 1);
        }
    }
    vg_buf_puts(&out, "'");
    return vg_buf_steal(&out);
}

static void curl_header(vg_buf *out, const fz_req *req, const char *line)
{
    const char *colon = strchr(line, ':');
    char *name = vg_strndup(line, colon ? (size_t)(colon - line) : strlen(line));
    char *shown = NULL;
    if (fz_header_is_secret(name)) {
        shown = req->identity ? vg_asprintf("%s: <%s:%s>", name, req->identity, name)
                              : vg_asprintf("%s: <%s>", name, name);
    } else {
        shown = vg_strdup(line);
    }
    char *q = fz_shell_quote(shown);
    vg_buf_printf(out, " -H %s", q);
    free(q);
    free(shown);
    free(name);
}

char *fz_curl_line(const fz_req *req)
{
    vg_buf out = {0};
    vg_buf_puts(&out, "curl -i");
    if (strcmp(req->method, "GET") != 0 || req->body != NULL) {
        char *m = fz_shell_quote(req->method);
        vg_buf_printf(&out, " -X %s", m);
        free(m);
    }
    for (int i = 0; i < req->nheaders; i++) {
        curl_header(&out, req, req->headers[i]);
    }
    if (req->body != NULL && req->body_len <= 2048) {
        char *body = fz_redact_text(req->body, req->body_len, 2048);
        char *q = fz_shell_quote(body);
        vg_buf_printf(&out, " --data-binary %s", q);
        free(q);
        free(body);
    } else if (req->body != NULL) {
        vg_buf_printf(&out, " --data-binary @body.bin");
    }
    char *url = fz_shell_quote(req->url);
    vg_buf_printf(&out, " %s", url);
    free(url);
    if (req->body != NULL && req->body_len > 2048) {
        vg_buf_printf(&out, "  # body.bin: %zu bytes, starting %.40s", req->body_len, req->body);
    }
    return vg_buf_steal(&out);
}
