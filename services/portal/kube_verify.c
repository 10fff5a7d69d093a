/* Cluster credential verification over libcurl, and the privilege classifier
 * (see kube_verify.h). */
#include "kube_verify.h"

#include <curl/curl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/alloc.h"
#include "vigil/crypto.h"
#include "vigil/netaddr.h"
#include "vigil/util.h"

#define KUBE_MAX_RESPONSE (4 * 1024 * 1024)

static const char *const self_review_resources[] = {
    "selfsubjectaccessreviews", "selfsubjectrulesreviews", "selfsubjectreviews"};

static bool array_has(const json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), s) == 0) {
            return true;
        }
    }
    return false;
}

static bool is_read_verb(const char *v)
{
    return strcmp(v, "get") == 0 || strcmp(v, "list") == 0 || strcmp(v, "watch") == 0;
}

static bool is_self_review(const char *resource)
{
    for (size_t i = 0; i < 3; i++) {
        if (strcmp(resource, self_review_resources[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* True when every resource of the rule is a self-review resource (creating those is how any
 * identity asks what it may do: not write access). */
static bool only_self_reviews(const json_t *resources)
{
    size_t i;
    json_t *v;
    if (json_array_size(resources) == 0) {
        return false;
    }
    json_array_foreach(resources, i, v)
    {
        if (!json_is_string(v) || !is_self_review(json_string_value(v))) {
            return false;
        }
    }
    return true;
}

/* Names the write verbs of a rule into b ("" when none). */
static void write_verbs(const json_t *verbs, const json_t *resources, vg_buf *b)
{
    bool self = only_self_reviews(resources);
    size_t i;
    json_t *v;
    json_array_foreach(verbs, i, v)
    {
        const char *verb = json_is_string(v) ? json_string_value(v) : "?";
        if (is_read_verb(verb) || (self && strcmp(verb, "create") == 0)) {
            continue;
        }
        vg_buf_printf(b, "%s%s", b->len ? ", " : "", verb);
    }
}

static bool reads_secrets(const json_t *rule)
{
    const json_t *res = json_object_get(rule, "resources");
    const json_t *groups = json_object_get(rule, "apiGroups");
    const json_t *verbs = json_object_get(rule, "verbs");
    bool core = json_array_size(groups) == 0 || array_has(groups, "") || array_has(groups, "*");
    bool read = array_has(verbs, "get") || array_has(verbs, "list") || array_has(verbs, "watch");
    return core && read && array_has(res, "secrets");
}

/* The reason a resource rule is over-privileged, into b (empty when it is fine). */
static void rule_reason(const json_t *rule, bool resource_rule, vg_buf *b)
{
    const json_t *verbs = json_object_get(rule, "verbs");
    const json_t *what = json_object_get(rule, resource_rule ? "resources" : "nonResourceURLs");
    const json_t *groups = json_object_get(rule, "apiGroups");
    if (array_has(verbs, "*") || array_has(what, "*") ||
        (resource_rule && array_has(groups, "*"))) {
        vg_buf_puts(b, "wildcard verbs, resources or apiGroups grant everything");
        return;
    }
    vg_buf w = {0};
    write_verbs(verbs, resource_rule ? what : NULL, &w);
    if (w.len > 0) {
        vg_buf_printf(b, "write access (%s)", w.data);
    }
    vg_buf_free(&w);
    if (resource_rule && reads_secrets(rule)) {
        vg_buf_printf(b, "%sreads Secrets", b->len ? "; " : "");
    }
}

static void classify_rules(const json_t *rules, bool resource_rules, json_t *out)
{
    size_t i;
    json_t *rule;
    json_array_foreach(rules, i, rule)
    {
        if (!json_is_object(rule)) {
            continue;
        }
        vg_buf reason = {0};
        rule_reason(rule, resource_rules, &reason);
        if (reason.len > 0) {
            json_t *o = json_deep_copy(rule);
            json_object_set_new(o, "reason", json_string(reason.data));
            json_array_append_new(out, o);
        }
        vg_buf_free(&reason);
    }
}

json_t *portal_kube_classify(const json_t *status)
{
    json_t *out = json_array();
    classify_rules(json_object_get(status, "resourceRules"), true, out);
    classify_rules(json_object_get(status, "nonResourceRules"), false, out);
    return out;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    vg_buf *b = arg;
    if (b->len + size * n > KUBE_MAX_RESPONSE) {
        return 0;
    }
    vg_buf_append(b, data, size * n);
    return size * n;
}

typedef struct kube_call {
    long http_status;
    CURLcode rc;
    char err[CURL_ERROR_SIZE];
    vg_buf body;
} kube_call;

/* One connection to the API server, reused for every request of a verification. */
typedef struct kube_client {
    CURL *curl;
    struct curl_slist *hdrs;
    char *auth;                 /* "Authorization: Bearer …": wiped on close */
    struct curl_slist *resolve; /* the checked addresses, pinned (CURLOPT_RESOLVE) */
    const char *server;
    struct curl_blob ca;
} kube_client;

static void kube_client_open(kube_client *kc, const char *server, const char *pin,
                             const char *ca_pem, const char *token, long timeout_s)
{
    kc->server = server;
    kc->resolve = curl_slist_append(NULL, pin);
    kc->auth = vg_asprintf("Authorization: Bearer %s", token);
    kc->hdrs = curl_slist_append(NULL, kc->auth);
    kc->hdrs = curl_slist_append(kc->hdrs, "Content-Type: application/json");
    kc->hdrs = curl_slist_append(kc->hdrs, "Accept: application/json");
    kc->ca =
        (struct curl_blob){.data = (void *)ca_pem, .len = strlen(ca_pem), .flags = CURL_BLOB_COPY};
    kc->curl = curl_easy_init();
    CURL *curl = kc->curl;
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(curl, CURLOPT_PROXY, "");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CAINFO_BLOB, &kc->ca);
    curl_easy_setopt(curl, CURLOPT_CAPATH, NULL);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, kc->hdrs);
    curl_easy_setopt(curl, CURLOPT_RESOLVE, kc->resolve);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout_s);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, timeout_s);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
}

static void kube_client_close(kube_client *kc)
{
    curl_easy_cleanup(kc->curl);
    curl_slist_free_all(kc->hdrs);
    curl_slist_free_all(kc->resolve);
    vg_wipe(kc->auth, strlen(kc->auth));
    free(kc->auth);
}

/* POSTs body (or GETs when body is NULL) to server + path. */
static void kube_request(kube_client *kc, const char *path, const char *body, kube_call *call)
{
    size_t slen = strlen(kc->server);
    char *url =
        vg_asprintf("%.*s%s", (int)(slen > 0 && kc->server[slen - 1] == '/' ? slen - 1 : slen),
                    kc->server, path);
    memset(call, 0, sizeof *call);
    curl_easy_setopt(kc->curl, CURLOPT_URL, url);
    curl_easy_setopt(kc->curl, CURLOPT_ERRORBUFFER, call->err);
    curl_easy_setopt(kc->curl, CURLOPT_WRITEDATA, &call->body);
    if (body != NULL) {
        curl_easy_setopt(kc->curl, CURLOPT_POSTFIELDS, body);
    } else {
        curl_easy_setopt(kc->curl, CURLOPT_HTTPGET, 1L);
    }
    call->rc = curl_easy_perform(kc->curl);
    curl_easy_getinfo(kc->curl, CURLINFO_RESPONSE_CODE, &call->http_status);
    free(url);
}

static void kube_review(kube_client *kc, const char *ns, kube_call *call)
{
    json_t *review = json_pack("{s:s, s:s, s:{s:s}}", "kind", "SelfSubjectRulesReview",
                               "apiVersion", "authorization.k8s.io/v1", "spec", "namespace", ns);
    char *text = json_dumps(review, JSON_COMPACT);
    kube_request(kc, "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", text, call);
    free(text);
    json_decref(review);
}

static void verdict_set(kube_verdict *v, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void verdict_set(kube_verdict *v, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    v->status = status;
    vsnprintf(v->message, sizeof v->message, fmt, ap);
    va_end(ap);
}

/* Sets a 400 verdict for a failed call; returns false when the call succeeded (2xx). */
static bool verdict_transport(kube_verdict *v, const kube_call *call)
{
    if (call->rc == CURLE_PEER_FAILED_VERIFICATION || call->rc == CURLE_SSL_CACERT_BADFILE ||
        call->rc == CURLE_SSL_CONNECT_ERROR) {
        verdict_set(v, 400, "TLS verification of the API server with the given CA failed: %s",
                    call->err[0] ? call->err : curl_easy_strerror(call->rc));
    } else if (call->rc != CURLE_OK) {
        verdict_set(v, 400, "cannot reach the cluster API server: %s",
                    call->err[0] ? call->err : curl_easy_strerror(call->rc));
    } else if (call->http_status == 401) {
        verdict_set(v, 400, "%s", "the token was rejected by the cluster");
    } else if (call->http_status == 403) {
        verdict_set(v, 400, "%s",
                    "the token may not create a SelfSubjectRulesReview (HTTP 403 from the "
                    "cluster)");
    } else if (call->http_status != 200 && call->http_status != 201) {
        verdict_set(v, 400, "unexpected HTTP %ld from the cluster API server", call->http_status);
    } else {
        return false;
    }
    return true;
}

/* Classifies one review answer for namespace ns; sets a 400/422 verdict and returns false
 * when the credential is refused. */
static bool verdict_from_review(kube_verdict *v, const kube_call *call, const char *ns)
{
    json_t *doc = json_loadb(call->body.data ? call->body.data : "", call->body.len, 0, NULL);
    json_t *status = json_object_get(doc, "status");
    bool ok = false;
    if (!json_is_object(status)) {
        verdict_set(v, 400, "%s", "the API server did not answer a SelfSubjectRulesReview");
    } else {
        json_t *bad = portal_kube_classify(status);
        if (json_array_size(bad) > 0) {
            verdict_set(v, 422,
                        "the token is over-privileged in namespace %s: Vigil needs read-only "
                        "access without Secrets (apply the manifest from "
                        "/api/v1/onboarding/manifest.yaml)",
                        ns);
            size_t i;
            json_t *rule;
            json_array_foreach(bad, i, rule)
            {
                json_object_set_new(rule, "namespace", json_string(ns));
            }
            v->offending = bad;
        } else {
            json_decref(bad);
            ok = true;
        }
    }
    json_decref(doc);
    return ok;
}

/* Namespace names the token may list (at most 500), or an empty array when it may not. */
static json_t *kube_namespaces(kube_client *kc)
{
    kube_call call;
    json_t *names = json_array();
    kube_request(kc, "/api/v1/namespaces?limit=500", NULL, &call);
    json_t *doc = call.rc == CURLE_OK && call.http_status == 200
                      ? json_loadb(call.body.data ? call.body.data : "", call.body.len, 0, NULL)
                      : NULL;
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(doc, "items"), i, item)
    {
        json_t *name = json_object_get(json_object_get(item, "metadata"), "name");
        if (json_is_string(name) && strcmp(json_string_value(name), "default") != 0) {
            json_array_append(names, name);
        }
    }
    json_decref(doc);
    vg_buf_free(&call.body);
    return names;
}

void portal_kube_verify(const char *server, const char *ca_pem, const char *token, long timeout_s,
                        bool allow_private, kube_verdict *v)
{
    memset(v, 0, sizeof *v);
    char pin[512], err[400];
    if (vg_url_target_pin(server, allow_private, pin, sizeof pin, err, sizeof err) != 0) {
        verdict_set(v, 400, "server refused: %s", err);
        return;
    }
    kube_client kc = {0};
    kube_client_open(&kc, server, pin, ca_pem, token, timeout_s);
    kube_call call;
    kube_review(&kc, "default", &call);
    bool ok = !verdict_transport(v, &call) && verdict_from_review(v, &call, "default");
    vg_buf_free(&call.body);
    /* rules granted by RoleBindings show only in their namespace's review */
    json_t *names = ok ? kube_namespaces(&kc) : json_array();
    size_t i;
    json_t *ns;
    int64_t deadline = vg_now_ms() + timeout_s * 3000;
    json_array_foreach(names, i, ns)
    {
        if (vg_now_ms() > deadline) {
            verdict_set(v, 400,
                        "the cluster API server answered too slowly to review the "
                        "token's rights in every namespace");
            ok = false;
            break;
        }
        kube_review(&kc, json_string_value(ns), &call);
        ok = !verdict_transport(v, &call) && verdict_from_review(v, &call, json_string_value(ns));
        vg_buf_free(&call.body);
        if (!ok) {
            break;
        }
    }
    json_decref(names);
    kube_client_close(&kc);
    if (ok) {
        v->status = 0;
    }
}
