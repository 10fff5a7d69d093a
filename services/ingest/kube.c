/* Paginated listing against a Kubernetes API server with libcurl. */
#include "kube.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/alloc.h"
#include "vigil/crypto.h"
#include "vigil/log.h"

#define MAX_RESPONSE (256L * 1024 * 1024)
#define MAX_RESTARTS 5

struct ingest_kube {
    CURL *curl;
    char *server; /* without a trailing '/' */
    char *ca_pem;
    struct curl_slist *headers; /* holds the Authorization header */
    struct curl_slist *resolve; /* the checked addresses, pinned (CURLOPT_RESOLVE) */
    long timeout_s;
    long requests;
    long restarts;
};

typedef struct response {
    vg_buf body;
    long status;
} response;

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    response *r = arg;
    size_t len = size * n;
    if (r->body.len + len > (size_t)MAX_RESPONSE) {
        return 0; /* aborts the transfer */
    }
    vg_buf_append(&r->body, data, len);
    return len;
}

ingest_kube *ingest_kube_new(const char *server, const char *pin, const char *ca_pem,
                             const char *token, long timeout_s)
{
    ingest_kube *k = vg_calloc(1, sizeof *k);
    k->curl = curl_easy_init();
    k->resolve = pin != NULL ? curl_slist_append(NULL, pin) : NULL;
    k->server = vg_strdup(server);
    size_t n = strlen(k->server);
    while (n > 0 && k->server[n - 1] == '/') {
        k->server[--n] = '\0';
    }
    k->ca_pem = vg_strdup(ca_pem);
    k->timeout_s = timeout_s;
    char *auth = vg_asprintf("Authorization: Bearer %s", token);
    k->headers = curl_slist_append(NULL, auth);
    k->headers = curl_slist_append(k->headers, "Accept: application/json");
    vg_wipe(auth, strlen(auth));
    free(auth);
    return k;
}

void ingest_kube_destroy(ingest_kube *k)
{
    if (k == NULL) {
        return;
    }
    for (struct curl_slist *h = k->headers; h != NULL; h = h->next) {
        vg_wipe(h->data, strlen(h->data));
    }
    curl_slist_free_all(k->headers);
    curl_slist_free_all(k->resolve);
    if (k->curl != NULL) {
        curl_easy_cleanup(k->curl);
    }
    free(k->server);
    free(k->ca_pem);
    free(k);
}

long ingest_kube_requests(const ingest_kube *k)
{
    return k->requests;
}

long ingest_kube_restarts(const ingest_kube *k)
{
    return k->restarts;
}

static void kube_setup(ingest_kube *k, const char *url, response *resp)
{
    CURL *c = k->curl;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, k->headers);
    curl_easy_setopt(c, CURLOPT_RESOLVE, k->resolve);
    struct curl_blob ca = {.data = k->ca_pem, .len = strlen(k->ca_pem), .flags = CURL_BLOB_NOCOPY};
    curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &ca);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, k->timeout_s < 10 ? k->timeout_s : 10L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, k->timeout_s);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "vigil-collector/1");
}

/* One GET; returns KUBE_OK with resp->status set, or KUBE_UNREACHABLE. */
static kube_status kube_get(ingest_kube *k, const char *url, response *resp, char *msg,
                            size_t msglen)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    kube_setup(k, url, resp);
    curl_easy_setopt(k->curl, CURLOPT_ERRORBUFFER, errbuf);
    k->requests++;
    CURLcode rc = curl_easy_perform(k->curl);
    if (rc != CURLE_OK) {
        snprintf(msg, msglen, "%s: %s", curl_easy_strerror(rc), errbuf);
        return KUBE_UNREACHABLE;
    }
    curl_easy_getinfo(k->curl, CURLINFO_RESPONSE_CODE, &resp->status);
    return KUBE_OK;
}

static char *page_url(ingest_kube *k, const ingest_resource *r, long limit, const char *cont)
{
    if (cont == NULL) {
        return vg_asprintf("%s%s?limit=%ld", k->server, r->path, limit);
    }
    char *esc = curl_easy_escape(k->curl, cont, 0);
    char *url = vg_asprintf("%s%s?limit=%ld&continue=%s", k->server, r->path, limit, esc);
    curl_free(esc);
    return url;
}

/* Maps a non-200 answer to a status and message. */
static kube_status status_of(const ingest_resource *r, const response *resp, char *msg,
                             size_t msglen)
{
    json_t *st = json_loadb(resp->body.data ? resp->body.data : "", resp->body.len, 0, NULL);
    const char *detail = json_string_value(json_object_get(st, "message"));
    snprintf(msg, msglen, "listing %s: HTTP %ld%s%s", r->name, resp->status, detail ? ": " : "",
             detail ? detail : "");
    json_decref(st);
    switch (resp->status) {
    case 401:
        return KUBE_UNAUTHORIZED;
    case 403:
        return KUBE_FORBIDDEN;
    case 404:
        return r->optional ? KUBE_ABSENT : KUBE_ERROR;
    default:
        return KUBE_ERROR;
    }
}

/* Appends one page's items to items; sets *next to a new continue token or NULL. */
static kube_status take_page(const ingest_resource *r, const response *resp, json_t *items,
                             char **next, char *msg, size_t msglen)
{
    json_error_t error;
    json_t *list = json_loadb(resp->body.data ? resp->body.data : "", resp->body.len, 0, &error);
    json_t *page = json_object_get(list, "items");
    if (!json_is_array(page) && !json_is_null(page)) {
        snprintf(msg, msglen, "listing %s: the answer is not a List (%s)", r->name,
                 list == NULL ? error.text : "no items array");
        json_decref(list);
        return KUBE_ERROR;
    }
    if (json_is_array(page)) {
        json_array_extend(items, page);
    }
    const char *cont =
        json_string_value(json_object_get(json_object_get(list, "metadata"), "continue"));
    *next = (cont != NULL && cont[0] != '\0') ? vg_strdup(cont) : NULL;
    json_decref(list);
    return KUBE_OK;
}

kube_status ingest_kube_list(ingest_kube *k, const ingest_resource *r, long page_size,
                             json_t **items, char *msg, size_t msglen)
{
    json_t *all = json_array();
    char *cont = NULL;
    kube_status st = KUBE_OK;
    int restarts = 0;
    for (;;) {
        char *url = page_url(k, r, page_size, cont);
        response resp = {{0}, 0};
        st = kube_get(k, url, &resp, msg, msglen);
        free(url);
        free(cont);
        cont = NULL;
        if (st == KUBE_OK && resp.status == 410 && restarts++ < MAX_RESTARTS) {
            k->restarts++;
            vg_info("continue token expired, restarting the listing", "resource", r->name);
            json_array_clear(all); /* a fresh, consistent listing from the start */
            vg_buf_free(&resp.body);
            continue;
        }
        if (st == KUBE_OK) {
            st = resp.status == 200 ? take_page(r, &resp, all, &cont, msg, msglen)
                                    : status_of(r, &resp, msg, msglen);
        }
        vg_buf_free(&resp.body);
        if (st != KUBE_OK || cont == NULL) {
            break;
        }
    }
    if (st != KUBE_OK) {
        json_decref(all);
        return st;
    }
    *items = all;
    return KUBE_OK;
}
