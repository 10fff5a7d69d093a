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

static void kube_post(const char *server, const char *ca_pem, const char *token, long timeout_s,
                      kube_call *call)
{
    static const char review[] =
        "{\"kind\":\"SelfSubjectRulesReview\",\"apiVersion\":\"authorization.k8s.io/v1\","
        "\"spec\":{\"namespace\":\"default\"}}";
    char *url = vg_asprintf("%s%s/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", server,
                            server[strlen(server) - 1] == '/' ? "." : "");
    char *auth = vg_asprintf("Authorization: Bearer %s", token);
    struct curl_slist *hdrs = curl_slist_append(NULL, auth);
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    struct curl_blob ca = {.data = (void *)ca_pem, .len = strlen(ca_pem),
                           .flags = CURL_BLOB_COPY};
    CURL *curl = curl_easy_init();
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(curl, CURLOPT_PROXY, "");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CAINFO_BLOB, &ca);
    curl_easy_setopt(curl, CURLOPT_CAPATH, NULL);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, review);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout_s);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, timeout_s);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, call->err);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &call->body);
    call->err[0] = '\0';
    call->rc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &call->http_status);
    curl_easy_cleanup(curl);
    curl_slist_free_all(hdrs);
    vg_wipe(auth, strlen(auth));
    free(auth);
    free(url);
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

static void verdict_from_review(kube_verdict *v, const kube_call *call)
{
    json_t *doc = json_loadb(call->body.data ? call->body.data : "", call->body.len, 0, NULL);
    json_t *status = json_object_get(doc, "status");
    if (!json_is_object(status)) {
        verdict_set(v, 400, "%s", "the API server did not answer a SelfSubjectRulesReview");
    } else {
        json_t *bad = portal_kube_classify(status);
        if (json_array_size(bad) > 0) {
            verdict_set(v, 422, "%s",
                        "the token is over-privileged: Vigil needs read-only access without "
                        "Secrets (apply the manifest from /api/v1/onboarding/manifest.yaml)");
            v->offending = bad;
            bad = NULL;
        } else {
            v->status = 0;
        }
        json_decref(bad);
    }
    json_decref(doc);
}

void portal_kube_verify(const char *server, const char *ca_pem, const char *token,
                        long timeout_s, kube_verdict *v)
{
    memset(v, 0, sizeof *v);
    kube_call call = {0};
    kube_post(server, ca_pem, token, timeout_s, &call);
    if (call.rc == CURLE_PEER_FAILED_VERIFICATION || call.rc == CURLE_SSL_CACERT_BADFILE ||
        call.rc == CURLE_SSL_CONNECT_ERROR) {
        verdict_set(v, 400, "TLS verification of the API server with the given CA failed: %s",
                    call.err[0] ? call.err : curl_easy_strerror(call.rc));
    } else if (call.rc != CURLE_OK) {
        verdict_set(v, 400, "cannot reach the cluster API server: %s",
                    call.err[0] ? call.err : curl_easy_strerror(call.rc));
    } else if (call.http_status == 401) {
        verdict_set(v, 400, "%s", "the token was rejected by the cluster");
    } else if (call.http_status == 403) {
        verdict_set(v, 400, "%s",
                    "the token may not create a SelfSubjectRulesReview (HTTP 403 from the "
                    "cluster)");
    } else if (call.http_status != 200 && call.http_status != 201) {
        verdict_set(v, 400, "unexpected HTTP %ld from the cluster API server",
                    call.http_status);
    } else {
        verdict_from_review(v, &call);
    }
    vg_buf_free(&call.body);
}
