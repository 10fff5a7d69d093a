/* Static files of the web page (see static_files.h). */
#include "static_files.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vigil/alloc.h"
#include "vigil/log.h"

#define STATIC_MAX_FILE (16 * 1024 * 1024)

static const struct {
    const char *ext;
    const char *type;
} content_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".json", "application/json"},
    {".map", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".ico", "image/x-icon"},
    {".txt", "text/plain; charset=utf-8"},
    {".woff2", "font/woff2"},
    {".yaml", "application/yaml"},
    {".webmanifest", "application/manifest+json"},
};

const char *portal_static_content_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (dot != NULL && strchr(dot, '/') == NULL) {
        for (size_t i = 0; i < sizeof content_types / sizeof content_types[0]; i++) {
            if (strcasecmp(dot, content_types[i].ext) == 0) {
                return content_types[i].type;
            }
        }
    }
    return "application/octet-stream";
}

bool portal_static_path_safe(const char *rel)
{
    if (rel == NULL || rel[0] == '\0' || rel[0] == '/') {
        return false;
    }
    const char *seg = rel;
    for (;;) {
        const char *end = strchr(seg, '/');
        size_t len = end ? (size_t)(end - seg) : strlen(seg);
        if (len == 0 || seg[0] == '.') {
            return false; /* empty, ".", ".." and hidden files */
        }
        for (size_t i = 0; i < len; i++) {
            unsigned char ch = (unsigned char)seg[i];
            if (ch < 0x20 || ch == 0x7f || ch == '\\') {
                return false;
            }
        }
        if (end == NULL) {
            return true;
        }
        seg = end + 1;
    }
}

/* Reads a regular file that resolves inside root; NULL when missing or outside. */
static char *static_read(const char *root, const char *rel, size_t *len)
{
    char *path = vg_asprintf("%s/%s", root, rel);
    char real_root[PATH_MAX], real_path[PATH_MAX];
    char *data = NULL;
    FILE *f = NULL;
    struct stat st;
    if (realpath(root, real_root) == NULL || realpath(path, real_path) == NULL) {
        goto out;
    }
    size_t rl = strlen(real_root);
    if (strncmp(real_path, real_root, rl) != 0 || real_path[rl] != '/') {
        goto out;
    }
    f = fopen(real_path, "rb");
    if (f == NULL || fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) ||
        st.st_size > STATIC_MAX_FILE) {
        goto out;
    }
    data = vg_malloc((size_t)st.st_size + 1);
    *len = fread(data, 1, (size_t)st.st_size, f);
out:
    if (f != NULL) {
        fclose(f);
    }
    free(path);
    return data;
}

static void static_serve(vg_http_req *req, const portal_ctx *ctx, const char *rel)
{
    size_t len = 0;
    char *data = portal_static_path_safe(rel) ? static_read(ctx->set.www_dir, rel, &len) : NULL;
    if (data == NULL) {
        vg_http_reply_error(req, 404, "not_found", "no such file");
        return;
    }
    const char *type = portal_static_content_type(rel);
    if (strncmp(type, "text/html", 9) == 0) {
        vg_http_set_header(req, "Content-Security-Policy",
                           "default-src 'self'; frame-ancestors 'none'; base-uri 'none'");
        vg_http_set_header(req, "X-Frame-Options", "DENY");
        vg_http_set_header(req, "Cache-Control", "no-cache");
    }
    vg_http_set_header(req, "Referrer-Policy", "no-referrer");
    vg_http_reply_raw(req, 200, type, data, len);
    free(data);
}

void portal_static_index(vg_http_req *req, void *arg)
{
    static_serve(req, arg, "index.html");
}

void portal_static_file(vg_http_req *req, void *arg)
{
    const char *rest = vg_http_param(req, "*");
    static_serve(req, arg, rest ? rest : "");
}
