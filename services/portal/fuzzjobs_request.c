/* Validation of fuzz job requests (see fuzzjobs.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzzjobs.h"
#include "specs.h"
#include "vigil/util.h"

#define FUZZ_MAX_IDENTITIES 16
#define FUZZ_MAX_HEADERS 32

static bool header_name_ok(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > 100) {
        return false;
    }
    for (const char *p = name; *p; p++) {
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_') {
            return false;
        }
    }
    return true;
}

static bool header_value_ok(const char *v)
{
    if (strlen(v) > 8192) {
        return false;
    }
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p < 0x20 && *p != '\t') {
            return false;
        }
    }
    return true;
}

static json_t *identity_parse(const json_t *id, size_t i, char *errbuf, size_t errlen)
{
    const char *name = json_string_value(json_object_get(id, "name"));
    const json_t *headers = json_object_get(id, "headers");
    const json_t *role = json_object_get(id, "role");
    if (!json_is_object(id) || name == NULL || name[0] == '\0' || strlen(name) > 64 ||
        !json_is_object(headers) || (role != NULL && !json_is_string(role))) {
        snprintf(errbuf, errlen,
                 "identities[%zu] must be {\"name\": 1-64 characters, \"headers\": {...}}", i);
        return NULL;
    }
    if (json_object_size(headers) > FUZZ_MAX_HEADERS) {
        snprintf(errbuf, errlen, "identities[%zu] has more than %d headers", i, FUZZ_MAX_HEADERS);
        return NULL;
    }
    const char *h;
    json_t *v;
    json_object_foreach((json_t *)headers, h, v)
    {
        if (!header_name_ok(h) || !json_is_string(v) || !header_value_ok(json_string_value(v))) {
            snprintf(errbuf, errlen,
                     "identities[%zu].headers: \"%.60s\" must be a header name (letters, digits, "
                     "'-', '_') with a string value without line breaks",
                     i, h);
            return NULL;
        }
    }
    json_t *out = json_pack("{s:s, s:O}", "name", name, "headers", headers);
    if (role != NULL) {
        json_object_set(out, "role", (json_t *)role);
    }
    return out;
}

static bool identities_parse(const json_t *ids, json_t *out, char *errbuf, size_t errlen)
{
    if (!json_is_array(ids) || json_array_size(ids) == 0 ||
        json_array_size(ids) > FUZZ_MAX_IDENTITIES) {
        snprintf(errbuf, errlen, "identities must be an array of 1 to %d {name, headers}",
                 FUZZ_MAX_IDENTITIES);
        return false;
    }
    json_t *list = json_array();
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id)
    {
        json_t *one = identity_parse(id, i, errbuf, errlen);
        if (one == NULL) {
            json_decref(list);
            return false;
        }
        json_array_append_new(list, one);
    }
    json_object_set_new(out, "identities", list);
    return true;
}

/* "API1".."API10" (optionally ":2023") or "injection"/"INJ" (stored as "INJ"). */
static const char *category_normal(const char *c, char *buf, size_t buflen)
{
    if (strcasecmp(c, "injection") == 0 || strcasecmp(c, "INJ") == 0) {
        return "INJ";
    }
    int n = 0, used = 0;
    if (strncasecmp(c, "API", 3) == 0 && sscanf(c + 3, "%d%n", &n, &used) == 1 && n >= 1 &&
        n <= 10 && isdigit((unsigned char)c[3]) &&
        (c[3 + used] == '\0' || strcmp(c + 3 + used, ":2023") == 0)) {
        snprintf(buf, buflen, "API%d", n);
        return buf;
    }
    return NULL;
}

static bool categories_parse(const json_t *cats, json_t *out, char *errbuf, size_t errlen)
{
    if (cats == NULL) {
        return true;
    }
    if (!json_is_array(cats) || json_array_size(cats) > 20) {
        snprintf(errbuf, errlen, "categories must be an array of API1..API10 or injection");
        return false;
    }
    json_t *list = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(cats, i, c)
    {
        char buf[16];
        const char *norm =
            json_is_string(c) ? category_normal(json_string_value(c), buf, sizeof buf) : NULL;
        if (norm == NULL) {
            snprintf(errbuf, errlen, "categories[%zu] must be one of API1..API10 or injection", i);
            json_decref(list);
            return false;
        }
        json_array_append_new(list, json_string(norm));
    }
    json_object_set_new(out, "categories", list);
    return true;
}

static bool api_ids_parse(const json_t *ids, json_t *out, char *errbuf, size_t errlen)
{
    if (ids == NULL) {
        return true;
    }
    if (!json_is_array(ids) || json_array_size(ids) > 1000) {
        snprintf(errbuf, errlen, "api_ids must be an array of at most 1000 API ids");
        return false;
    }
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v)
    {
        if (!json_is_string(v) || !vg_uuid_valid(json_string_value(v))) {
            snprintf(errbuf, errlen, "api_ids[%zu] must be a UUID", i);
            return false;
        }
    }
    json_object_set(out, "api_ids", (json_t *)ids);
    return true;
}

static bool options_parse(const json_t *body, json_t *out, char *errbuf, size_t errlen)
{
    const json_t *unsafe = json_object_get(body, "allow_unsafe_methods");
    const json_t *rate = json_object_get(body, "rate_limit");
    const json_t *budget = json_object_get(body, "time_budget_s");
    if (unsafe != NULL && !json_is_boolean(unsafe)) {
        snprintf(errbuf, errlen, "allow_unsafe_methods must be true or false");
        return false;
    }
    if (rate != NULL &&
        (!json_is_number(rate) || json_number_value(rate) <= 0 || json_number_value(rate) > 1000)) {
        snprintf(errbuf, errlen, "rate_limit must be a number of requests per second in (0, 1000]");
        return false;
    }
    if (budget != NULL && (!json_is_integer(budget) || json_integer_value(budget) < 1 ||
                           json_integer_value(budget) > 86400)) {
        snprintf(errbuf, errlen, "time_budget_s must be an integer between 1 and 86400");
        return false;
    }
    json_object_set_new(out, "allow_unsafe_methods", json_boolean(json_is_true(unsafe)));
    if (rate != NULL) {
        json_object_set(out, "rate_limit", (json_t *)rate);
    }
    if (budget != NULL) {
        json_object_set(out, "time_budget_s", (json_t *)budget);
    }
    return true;
}

json_t *portal_fuzz_request_parse(const json_t *body, char *errbuf, size_t errlen)
{
    const char *base = json_string_value(json_object_get(body, "base_url"));
    char *host = base && strlen(base) <= 2048 ? portal_url_hostkey(base) : NULL;
    if (host == NULL) {
        snprintf(errbuf, errlen, "base_url must be an absolute http(s) URL with a host");
        return NULL;
    }
    json_t *out = json_pack("{s:s, s:s}", "base_url", base, "host", host);
    if (!identities_parse(json_object_get(body, "identities"), out, errbuf, errlen) ||
        !categories_parse(json_object_get(body, "categories"), out, errbuf, errlen) ||
        !api_ids_parse(json_object_get(body, "api_ids"), out, errbuf, errlen) ||
        !options_parse(body, out, errbuf, errlen)) {
        json_decref(out);
        out = NULL;
    }
    free(host);
    return out;
}
