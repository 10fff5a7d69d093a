#include "vigil/netaddr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vigil/alloc.h"

static bool v4_private(uint32_t a)
{
    static const struct {
        uint32_t net, mask;
    } nets[] = {
        {0x00000000, 0xff000000}, /* 0.0.0.0/8 */
        {0x0a000000, 0xff000000}, /* 10/8 */
        {0x64400000, 0xffc00000}, /* 100.64/10 CGNAT */
        {0x7f000000, 0xff000000}, /* loopback */
        {0xa9fe0000, 0xffff0000}, /* link-local, cloud metadata */
        {0xac100000, 0xfff00000}, /* 172.16/12 */
        {0xc0000000, 0xffffff00}, /* 192.0.0/24 */
        {0xc0000200, 0xffffff00}, /* TEST-NET-1 */
        {0xc0a80000, 0xffff0000}, /* 192.168/16 */
        {0xc6120000, 0xfffe0000}, /* 198.18/15 benchmarking */
        {0xc6336400, 0xffffff00}, /* TEST-NET-2 */
        {0xcb007100, 0xffffff00}, /* TEST-NET-3 */
        {0xe0000000, 0xe0000000}, /* multicast and reserved 224/3 */
    };
    for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++) {
        if ((a & nets[i].mask) == nets[i].net) {
            return true;
        }
    }
    return false;
}

static bool v6_private(const struct in6_addr *a)
{
    const uint8_t *b = a->s6_addr;
    if (IN6_IS_ADDR_V4MAPPED(a) || IN6_IS_ADDR_V4COMPAT(a)) {
        uint32_t v4 =
            ((uint32_t)b[12] << 24) | ((uint32_t)b[13] << 16) | ((uint32_t)b[14] << 8) | b[15];
        return v4_private(v4);
    }
    if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b) { /* 64:ff9b::/96 NAT64 */
        uint32_t v4 =
            ((uint32_t)b[12] << 24) | ((uint32_t)b[13] << 16) | ((uint32_t)b[14] << 8) | b[15];
        return v4_private(v4);
    }
    return IN6_IS_ADDR_UNSPECIFIED(a) || IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_LINKLOCAL(a) ||
           IN6_IS_ADDR_SITELOCAL(a) || IN6_IS_ADDR_MULTICAST(a) ||
           (b[0] & 0xfe) == 0xfc ||                                        /* fc00::/7 */
           (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8); /* 2001:db8::/32 */
}

bool vg_addr_is_private(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        return v4_private(ntohl(in->sin_addr.s_addr));
    }
    if (sa->sa_family == AF_INET6) {
        return v6_private(&((const struct sockaddr_in6 *)sa)->sin6_addr);
    }
    return true;
}

bool vg_ip_literal_is_private(const char *ip, bool *is_private)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, ip, &a4) == 1) {
        *is_private = v4_private(ntohl(a4.s_addr));
        return true;
    }
    if (inet_pton(AF_INET6, ip, &a6) == 1) {
        *is_private = v6_private(&a6);
        return true;
    }
    return false;
}

bool vg_url_parse(const char *url, char **scheme, char **host, int *port, char **path)
{
    const char *sep = strstr(url, "://");
    if (sep == NULL) {
        return false;
    }
    size_t slen = (size_t)(sep - url);
    bool https = slen == 5 && strncasecmp(url, "https", 5) == 0;
    bool http = slen == 4 && strncasecmp(url, "http", 4) == 0;
    if (!https && !http) {
        return false;
    }
    const char *auth = sep + 3;
    size_t alen = strcspn(auth, "/?#");
    if (alen == 0 || memchr(auth, '@', alen) != NULL) {
        return false; /* no host, or userinfo (a classic SSRF trick) */
    }
    const char *hs = auth, *he = auth + alen, *ps = NULL;
    if (*hs == '[') {
        const char *close = memchr(hs, ']', alen);
        if (close == NULL) {
            return false;
        }
        ps = (close + 1 < he && close[1] == ':') ? close + 2 : NULL;
        hs++;
        he = close;
    } else {
        const char *colon = memchr(hs, ':', alen);
        if (colon) {
            ps = colon + 1;
            he = colon;
        }
    }
    long p = https ? 443 : 80;
    if (ps) {
        char *end = NULL;
        p = strtol(ps, &end, 10);
        if (end == ps || end != auth + alen || p <= 0 || p > 65535) {
            return false;
        }
    }
    if (he == hs) {
        return false;
    }
    *scheme = vg_strndup(url, slen);
    for (char *c = *scheme; *c; c++) {
        *c = (char)tolower((unsigned char)*c);
    }
    *host = vg_strndup(hs, (size_t)(he - hs));
    *port = (int)p;
    *path = vg_strdup(auth[alen] == '/' ? auth + alen : "/");
    return true;
}

/* Appends addr (bracketed when IPv6) to the resolve entry; false when it does not fit. */
static bool resolve_append(char *resolve, size_t len, const struct addrinfo *ai, bool first)
{
    char ip[INET6_ADDRSTRLEN];
    const void *src = ai->ai_family == AF_INET
                          ? (const void *)&((const struct sockaddr_in *)ai->ai_addr)->sin_addr
                          : (const void *)&((const struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
    if (inet_ntop(ai->ai_family, src, ip, sizeof ip) == NULL) {
        return false;
    }
    size_t used = strlen(resolve);
    int n = snprintf(resolve + used, len - used, ai->ai_family == AF_INET6 ? "%s[%s]" : "%s%s",
                     first ? "" : ",", ip);
    return n > 0 && (size_t)n < len - used;
}

int vg_url_target_pin(const char *url, bool allow_private, char *resolve, size_t resolve_len,
                      char *errbuf, size_t errlen)
{
    char *scheme = NULL, *host = NULL, *path = NULL;
    int port = 0;
    if (resolve_len > 0) {
        resolve[0] = '\0';
    }
    if (!vg_url_parse(url, &scheme, &host, &port, &path)) {
        snprintf(errbuf, errlen, "not an http(s) URL with a host: %s", url);
        return -1;
    }
    int rc = -1;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(host, NULL, &hints, &res);
    if (gai != 0) {
        snprintf(errbuf, errlen, "cannot resolve host %s: %s", host, gai_strerror(gai));
        goto out;
    }
    if (resolve_len > 0) {
        snprintf(resolve, resolve_len, "%s:%d:", host, port);
    }
    bool first = true;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (!allow_private && vg_addr_is_private(ai->ai_addr)) {
            snprintf(errbuf, errlen,
                     "host %s resolves to a loopback or private address, which is refused", host);
            goto out;
        }
        if (resolve_len > 0 && (ai->ai_family == AF_INET || ai->ai_family == AF_INET6)) {
            if (!resolve_append(resolve, resolve_len, ai, first)) {
                break; /* enough addresses pinned */
            }
            first = false;
        }
    }
    rc = 0;
out:
    if (res) {
        freeaddrinfo(res);
    }
    free(scheme);
    free(host);
    free(path);
    return rc;
}

int vg_url_target_check(const char *url, bool allow_private, char *errbuf, size_t errlen)
{
    return vg_url_target_pin(url, allow_private, NULL, 0, errbuf, errlen);
}
