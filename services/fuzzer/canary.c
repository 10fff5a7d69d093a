/* SSRF canary server; see canary.h. */
#include "canary.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/alloc.h"
#include "vigil/log.h"
#include "vigil/util.h"

#define CANARY_MAX_TOKENS 4096

typedef struct fz_canary {
    struct evhttp *http;
    char *base_url;
    char **tokens;
    size_t ntokens;
    size_t hits;
} fz_canary;

static void on_request(struct evhttp_request *ev, void *arg)
{
    fz_canary *c = arg;
    const char *uri = evhttp_request_get_uri(ev);
    c->hits++;
    if (uri != NULL && strncmp(uri, "/c/", 3) == 0 && c->ntokens < CANARY_MAX_TOKENS) {
        size_t n = strcspn(uri + 3, "/?#");
        if (n > 0 && n < 100) {
            c->tokens = vg_realloc(c->tokens, sizeof(char *) * (c->ntokens + 1));
            c->tokens[c->ntokens++] = vg_strndup(uri + 3, n);
        }
    }
    struct evbuffer *out = evbuffer_new();
    evbuffer_add_printf(out, "vigil canary\n");
    evhttp_add_header(evhttp_request_get_output_headers(ev), "Content-Type", "text/plain");
    evhttp_send_reply(ev, 200, "OK", out);
    evbuffer_free(out);
}

fz_canary *fz_canary_new(struct event_base *base, const char *addr, const char *public_url,
                         char *errbuf, size_t errlen)
{
    char *host = NULL;
    int port = 0;
    if (!vg_split_hostport(addr, &host, &port)) {
        snprintf(errbuf, errlen, "canary address %s is not host:port", addr);
        return NULL;
    }
    fz_canary *c = vg_calloc(1, sizeof *c);
    c->http = evhttp_new(base);
    struct evhttp_bound_socket *sock =
        evhttp_bind_socket_with_handle(c->http, host, (ev_uint16_t)port);
    if (sock == NULL) {
        snprintf(errbuf, errlen, "cannot bind the canary on %s", addr);
        free(host);
        fz_canary_destroy(c);
        return NULL;
    }
    evhttp_set_gencb(c->http, on_request, c);
    evhttp_set_timeout(c->http, 5);
    if (public_url != NULL && *public_url != '\0') {
        c->base_url = vg_strdup(public_url);
    } else {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        getsockname(evhttp_bound_socket_get_fd(sock), (struct sockaddr *)&ss, &len);
        int bound = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        c->base_url = vg_asprintf("http://%s:%d", host, bound);
    }
    free(host);
    return c;
}

void fz_canary_destroy(fz_canary *c)
{
    if (c == NULL) {
        return;
    }
    if (c->http != NULL) {
        evhttp_free(c->http);
    }
    for (size_t i = 0; i < c->ntokens; i++) {
        free(c->tokens[i]);
    }
    free(c->tokens);
    free(c->base_url);
    free(c);
}

char *fz_canary_url(const fz_canary *c, const char *token)
{
    return vg_asprintf("%s/c/%s", c->base_url, token);
}

bool fz_canary_hit(const fz_canary *c, const char *token)
{
    for (size_t i = 0; i < c->ntokens; i++) {
        if (strcmp(c->tokens[i], token) == 0) {
            return true;
        }
    }
    return false;
}

size_t fz_canary_hits(const fz_canary *c)
{
    return c->hits;
}
