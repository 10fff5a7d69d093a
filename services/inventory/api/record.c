/* Trace record parsing and attribution: see record.h. */
#include "record.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template.h"
#include "vigil/netaddr.h"

const char *api_class_name(api_class cls)
{
    return cls == API_CLASS_EXTERNAL   ? "external"
           : cls == API_CLASS_OUTBOUND ? "outbound"
                                       : "internal";
}

/* A string field, with Envoy's "-" placeholder and empty strings read as absent. */
static const char *field(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    if (s == NULL || s[0] == '\0' || (s[0] == '-' && s[1] == '\0')) {
        return NULL;
    }
    return s;
}

static int int_field(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (json_is_integer(v)) {
        return (int)json_integer_value(v);
    }
    const char *s = json_string_value(v);
    return s != NULL ? atoi(s) : 0;
}

static void copy_lower(char *dst, size_t cap, const char *src, size_t len)
{
    size_t n = len < cap - 1 ? len : api_utf8_cut(src, cap - 1);
    for (size_t i = 0; i < n; i++) {
        dst[i] = (char)tolower((unsigned char)src[i]);
    }
    dst[n] = '\0';
}

/* Copies at most n bytes of src (and at most cap - 1) as a string; returns the length. */
static size_t scopy(char *dst, size_t cap, const char *src, size_t n)
{
    n = n < cap - 1 ? n : api_utf8_cut(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
    return n;
}

/* "10.1.2.3:456", "[fe80::1]:80" or a bare address -> the address. */
static void addr_only(const char *addr, char *out, size_t cap)
{
    out[0] = '\0';
    if (addr == NULL) {
        return;
    }
    if (addr[0] == '[') {
        const char *end = strchr(addr, ']');
        size_t len = end ? (size_t)(end - addr - 1) : strlen(addr + 1);
        copy_lower(out, cap, addr + 1, len);
        return;
    }
    const char *colon = strchr(addr, ':');
    bool v6 = colon != NULL && strchr(colon + 1, ':') != NULL;
    copy_lower(out, cap, addr, colon != NULL && !v6 ? (size_t)(colon - addr) : strlen(addr));
}

static const char *const public_tlds[] = {
    "com",  "net", "org", "io", "dev", "ai",   "co", "app", "cloud", "us", "uk", "de", "fr", "eu",
    "info", "biz", "me",  "tv", "xyz", "tech", "nl", "jp",  "cn",    "in", "br", "ca", "au", "es",
    "it",   "se",  "ch",  "at", "be",  "pl",   "ru", "gov", "edu",   "so", "sh", "gg", "ly", NULL};

static bool ends_with(const char *s, size_t len, const char *suffix)
{
    size_t n = strlen(suffix);
    return len >= n && strncmp(s + len - n, suffix, n) == 0;
}

bool api_host_in_cluster(const char *host)
{
    char name[256];
    addr_only(host, name, sizeof name);
    bool priv = false;
    if (vg_ip_literal_is_private(name, &priv)) {
        return priv;
    }
    size_t len = strlen(name);
    if (len == 0 || strchr(name, '.') == NULL || ends_with(name, len, ".svc") ||
        ends_with(name, len, ".cluster.local") || ends_with(name, len, ".local") ||
        ends_with(name, len, ".internal")) {
        return true;
    }
    const char *tld = strrchr(name, '.') + 1;
    for (size_t i = 0; public_tlds[i] != NULL; i++) {
        if (strcmp(tld, public_tlds[i]) == 0) {
            return false;
        }
    }
    /* name.namespace with a non-public last label */
    return strchr(name, '.') == strrchr(name, '.');
}

/* Service "name.namespace" of an in-cluster host (port stripped), namespace fallback ns. */
static void cluster_service(api_record *rec, const char *host, const char *ns)
{
    char name[256];
    addr_only(host, name, sizeof name);
    size_t len = strlen(name);
    bool priv = false;
    if (vg_ip_literal_is_private(name, &priv)) {
        scopy(rec->service, sizeof rec->service, name, len);
        return;
    }
    char *dot = strchr(name, '.');
    if (dot == NULL) {
        size_t o = scopy(rec->service, sizeof rec->service, name, len);
        if (ns != NULL && ns[0] != '\0' && o + 1 < sizeof rec->service) {
            rec->service[o] = '.';
            scopy(rec->service + o + 1, sizeof rec->service - o - 1, ns, strlen(ns));
            scopy(rec->dst_ns, sizeof rec->dst_ns, ns, strlen(ns));
        }
        return;
    }
    char *dot2 = strchr(dot + 1, '.');
    size_t nslen = dot2 ? (size_t)(dot2 - dot - 1) : strlen(dot + 1);
    scopy(rec->service, sizeof rec->service, name, dot2 ? (size_t)(dot2 - name) : len);
    scopy(rec->dst_ns, sizeof rec->dst_ns, dot + 1, nslen);
}

static int port_of(const char *hostport)
{
    if (hostport == NULL || hostport[0] == '[') {
        const char *end = hostport ? strchr(hostport, ']') : NULL;
        return end != NULL && end[1] == ':' ? atoi(end + 2) : 0;
    }
    const char *colon = strrchr(hostport, ':');
    return colon != NULL && strchr(hostport, ':') == colon ? atoi(colon + 1) : 0;
}

/* The caller's address: the first X-Forwarded-For entry when present, else the peer. */
static void source_of(api_record *rec, const char *peer, const char *xff)
{
    if (xff != NULL) {
        size_t len = strcspn(xff, ",");
        char first[64];
        copy_lower(first, sizeof first, xff, len);
        char *s = first;
        while (*s == ' ') {
            s++;
        }
        addr_only(s, rec->src_ip, sizeof rec->src_ip);
    }
    if (rec->src_ip[0] == '\0') {
        addr_only(peer, rec->src_ip, sizeof rec->src_ip);
    }
    bool priv = true;
    if (rec->src_ip[0] != '\0' && vg_ip_literal_is_private(rec->src_ip, &priv) && !priv) {
        rec->cls = API_CLASS_EXTERNAL;
    }
    const char *src = rec->cls == API_CLASS_EXTERNAL ? "external"
                      : rec->src_ip[0]               ? rec->src_ip
                                                     : "unknown";
    scopy(rec->source, sizeof rec->source, src, strlen(src));
}

static void split_query(api_record *rec)
{
    if (rec->path == NULL) {
        return;
    }
    rec->path_len = strlen(rec->path);
    const char *q = strchr(rec->path, '?');
    rec->query = q != NULL ? q + 1 : NULL;
}

/* "outbound|8000||httpbin.default.svc.cluster.local" -> direction, port, name. */
static void parse_upstream_cluster(const char *uc, char *dir, size_t dircap, int *port, char *name,
                                   size_t namecap)
{
    dir[0] = '\0';
    name[0] = '\0';
    *port = 0;
    if (uc == NULL) {
        return;
    }
    const char *p1 = strchr(uc, '|');
    if (p1 == NULL) {
        copy_lower(dir, dircap, uc, strlen(uc));
        return;
    }
    copy_lower(dir, dircap, uc, (size_t)(p1 - uc));
    *port = atoi(p1 + 1);
    const char *p2 = strchr(p1 + 1, '|');
    const char *p3 = p2 ? strchr(p2 + 1, '|') : NULL;
    if (p3 != NULL) {
        copy_lower(name, namecap, p3 + 1, strlen(p3 + 1));
    }
}

/* Destination service, host and class; host is what the caller named. */
static void destination_of(api_record *rec, const char *host, const char *cluster_name,
                           const char *ns)
{
    if (host == NULL) {
        host = cluster_name;
    }
    if (host == NULL) {
        host = "unknown";
    }
    copy_lower(rec->host, sizeof rec->host, host, strlen(host));
    size_t cl = cluster_name ? strlen(cluster_name) : 0;
    if (cl > 0 && ends_with(cluster_name, cl, ".svc.cluster.local")) {
        cluster_service(rec, cluster_name, ns);
    } else if (api_host_in_cluster(rec->host)) {
        cluster_service(rec, rec->host, ns);
    } else {
        addr_only(rec->host, rec->service, sizeof rec->service);
        rec->cls = API_CLASS_OUTBOUND;
    }
}

static void inbound_destination(api_record *rec, const char *authority, const char *ucname)
{
    const char *host = authority != NULL ? authority : ucname;
    copy_lower(rec->host, sizeof rec->host, host, strlen(host));
    size_t cl = strlen(ucname);
    if (cl > 0 && ends_with(ucname, cl, ".svc.cluster.local")) {
        cluster_service(rec, ucname, NULL);
    } else if (authority != NULL && api_host_in_cluster(authority)) {
        cluster_service(rec, authority, NULL);
    } else {
        addr_only(host, rec->service, sizeof rec->service);
    }
}

/* The access-log fields the inventory reads (lookups with known key lengths: cheaper than
 * walking every pair of a freshly parsed record, whose pairs are scattered in memory). */
typedef struct envoy_fields {
    const json_t *method, *path, *status, *duration, *start, *authority, *sni, *uhost, *ucluster,
        *peer, *xff, *local;
} envoy_fields;

static void envoy_collect(const json_t *o, envoy_fields *f)
{
    static const struct {
        const char *key;
        size_t off;
        size_t len;
    } map[] = {
        {"method", offsetof(envoy_fields, method), 6},
        {"path", offsetof(envoy_fields, path), 4},
        {"response_code", offsetof(envoy_fields, status), 13},
        {"duration", offsetof(envoy_fields, duration), 8},
        {"start_time", offsetof(envoy_fields, start), 10},
        {"authority", offsetof(envoy_fields, authority), 9},
        {"requested_server_name", offsetof(envoy_fields, sni), 21},
        {"upstream_host", offsetof(envoy_fields, uhost), 13},
        {"upstream_cluster", offsetof(envoy_fields, ucluster), 16},
        {"downstream_remote_address", offsetof(envoy_fields, peer), 25},
        {"x_forwarded_for", offsetof(envoy_fields, xff), 15},
        {"downstream_local_address", offsetof(envoy_fields, local), 24},
    };
    memset(f, 0, sizeof *f);
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        *(const json_t **)((char *)f + map[i].off) = json_object_getn(o, map[i].key, map[i].len);
    }
}

static const char *fstr(const json_t *v)
{
    const char *s = json_string_value(v);
    if (s == NULL || s[0] == '\0' || (s[0] == '-' && s[1] == '\0')) {
        return NULL;
    }
    return s;
}

static int fint(const json_t *v)
{
    if (json_is_integer(v)) {
        return (int)json_integer_value(v);
    }
    const char *s = json_string_value(v);
    return s != NULL ? atoi(s) : 0;
}

static int parse_envoy(const json_t *o, api_record *rec, char *errbuf, size_t errlen)
{
    envoy_fields f;
    envoy_collect(o, &f);
    rec->format = API_FMT_ENVOY;
    rec->method = fstr(f.method);
    rec->path = fstr(f.path);
    if ((rec->method == NULL) != (rec->path == NULL)) {
        snprintf(errbuf, errlen, "envoy record: method and path must both be set or both absent");
        return -1;
    }
    rec->status = fint(f.status);
    rec->duration_ms = json_number_value(f.duration);
    rec->start_time = fstr(f.start);
    const char *authority = fstr(f.authority);
    const char *sni = fstr(f.sni);
    const char *uhost = fstr(f.uhost);
    char dir[32], ucname[256];
    int ucport = 0;
    parse_upstream_cluster(fstr(f.ucluster), dir, sizeof dir, &ucport, ucname, sizeof ucname);
    if (authority == NULL && sni == NULL && ucname[0] == '\0' && uhost == NULL) {
        snprintf(errbuf, errlen,
                 "envoy record: no destination (authority, upstream_cluster, "
                 "requested_server_name or upstream_host)");
        return -1;
    }
    source_of(rec, fstr(f.peer), fstr(f.xff));
    const char *host = authority;
    if (rec->method == NULL || host == NULL) {
        /* opaque TCP/TLS: the SNI, then the cluster name, name the destination */
        host = sni ? sni : ucname[0] && strstr(ucname, ".svc.") == NULL ? ucname : authority;
    }
    if (host == NULL) {
        host = ucname[0] ? ucname : uhost;
    }
    rec->inbound = strncmp(dir, "inbound", 7) == 0;
    if (rec->inbound) {
        /* logged by the destination's own sidecar: whatever the authority, it is in the
         * cluster; the model names it from the pod address when the name does not */
        inbound_destination(rec, authority, ucname);
        addr_only(fstr(f.local), rec->dst_ip, sizeof rec->dst_ip);
    } else {
        destination_of(rec, host, ucname[0] ? ucname : NULL, NULL);
        addr_only(uhost, rec->dst_ip, sizeof rec->dst_ip);
    }
    rec->port = port_of(authority) ? port_of(authority) : ucport ? ucport : port_of(uhost);
    rec->tls = sni != NULL || (rec->method == NULL && rec->port == 443);
    split_query(rec);
    return 0;
}

/* Methods are HTTP tokens of letters; paths start with '/'. */
static int check_request(const api_record *rec, char *errbuf, size_t errlen)
{
    if (rec->method != NULL) {
        size_t n = strlen(rec->method);
        for (size_t i = 0; i < n; i++) {
            if (!isupper((unsigned char)rec->method[i])) {
                n = 0;
                break;
            }
        }
        if (n == 0 || n > 15) {
            snprintf(errbuf, errlen, "invalid method");
            return -1;
        }
    }
    if (rec->path != NULL && rec->path[0] != '/' && rec->path[0] != '*') {
        snprintf(errbuf, errlen, "path must start with '/'");
        return -1;
    }
    return 0;
}

static const char *strip_absolute(const char *path)
{
    if (strncmp(path, "http://", 7) == 0 || strncmp(path, "https://", 8) == 0) {
        const char *slash = strchr(strstr(path, "//") + 2, '/');
        return slash != NULL ? slash : "/";
    }
    return path;
}

static int parse_apiclarity(const json_t *o, api_record *rec, char *errbuf, size_t errlen)
{
    rec->format = API_FMT_APICLARITY;
    const json_t *req = json_object_get(o, "request");
    const json_t *resp = json_object_get(o, "response");
    const json_t *rqc = json_object_get(req, "common");
    const json_t *rsc = json_object_get(resp, "common");
    rec->method = field(req, "method");
    rec->path = field(req, "path");
    if (rec->method == NULL || rec->path == NULL) {
        snprintf(errbuf, errlen, "apiclarity record: request.method and request.path required");
        return -1;
    }
    rec->path = strip_absolute(rec->path);
    rec->status = int_field(resp, "statusCode");
    rec->req_headers = json_object_get(rqc, "headers");
    rec->resp_headers = json_object_get(rsc, "headers");
    rec->req_body_b64 = field(rqc, "body");
    rec->resp_body_b64 = field(rsc, "body");
    double t0 = json_number_value(json_object_get(rqc, "time"));
    double t1 = json_number_value(json_object_get(rsc, "time"));
    rec->duration_ms = t1 >= t0 && t0 > 0 ? t1 - t0 : 0;
    const char *scheme = field(o, "scheme");
    rec->tls = scheme != NULL && strcasecmp(scheme, "https") == 0;
    const char *dst = field(o, "destinationAddress");
    const char *host = field(req, "host");
    source_of(rec, field(o, "sourceAddress"), NULL);
    destination_of(rec, host ? host : dst, NULL, field(o, "destinationNamespace"));
    rec->port = port_of(host) ? port_of(host) : port_of(dst);
    addr_only(dst, rec->dst_ip, sizeof rec->dst_ip);
    split_query(rec);
    return 0;
}

int api_record_parse(const json_t *item, api_record *rec, char *errbuf, size_t errlen)
{
    memset(rec, 0, offsetof(api_record, service));
    rec->inbound = false;
    rec->service[0] = rec->host[0] = rec->dst_ns[0] = rec->src_ip[0] = '\0';
    rec->source[0] = rec->src_ns[0] = rec->src_principal[0] = rec->dst_ip[0] = '\0';
    rec->cls = API_CLASS_INTERNAL;
    rec->port = 0;
    const char *format = NULL;
    const json_t *o = NULL;
    /* a two-key object: walking it is cheaper than two hash lookups */
    for (void *it = json_object_iter((json_t *)item); it != NULL;
         it = json_object_iter_next((json_t *)item, it)) {
        const char *key = json_object_iter_key(it);
        if (strcmp(key, "format") == 0) {
            format = json_string_value(json_object_iter_value(it));
        } else if (strcmp(key, "record") == 0) {
            o = json_object_iter_value(it);
        }
    }
    if (format == NULL || !json_is_object(o)) {
        snprintf(errbuf, errlen, "record item needs \"format\" and an object \"record\"");
        return -1;
    }
    if (strcmp(format, "envoy") == 0) {
        return parse_envoy(o, rec, errbuf, errlen) == 0 ? check_request(rec, errbuf, errlen) : -1;
    }
    if (strcmp(format, "apiclarity") == 0) {
        return parse_apiclarity(o, rec, errbuf, errlen) == 0 ? check_request(rec, errbuf, errlen)
                                                             : -1;
    }
    snprintf(errbuf, errlen, "unknown record format");
    return -1;
}
