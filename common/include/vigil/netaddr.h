/* Target address policy: loopback, private, link-local and other non-public addresses are
 * refused as outbound targets (webhooks, fuzzing, cluster URLs) unless explicitly allowed. */
#ifndef VIGIL_NETADDR_H
#define VIGIL_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* True for loopback, RFC 1918, CGNAT, link-local, unique-local, unspecified, multicast,
 * documentation and IPv4-mapped forms of those. */
bool vg_addr_is_private(const struct sockaddr *sa);
/* Parses a literal IPv4/IPv6 address string; false when it is not one. */
bool vg_ip_literal_is_private(const char *ip, bool *is_private);

/* Resolves url's host and checks every address. Returns 0 when allowed, -1 with a message
 * (unparsable URL, unresolvable host, or private address without allow_private). */
int vg_url_target_check(const char *url, bool allow_private, char *errbuf, size_t errlen)
    __attribute__((warn_unused_result));

/* Like vg_url_target_check, and also writes into resolve a curl CURLOPT_RESOLVE entry
 * "host:port:addr[,addr...]" pinning the addresses that were checked, so the connection goes
 * where the check looked and a second DNS answer cannot swap in a private address
 * (DNS rebinding). Add it to a curl_slist and set CURLOPT_RESOLVE with it. */
int vg_url_target_pin(const char *url, bool allow_private, char *resolve, size_t resolve_len,
                      char *errbuf, size_t errlen) __attribute__((warn_unused_result));

/* Splits an http(s) URL; scheme/host/path are new strings (path defaults to "/"). */
bool vg_url_parse(const char *url, char **scheme, char **host, int *port, char **path);

#endif
