/* Webhook signing and request setup. */
#include "webhook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>

#include "vigil/alloc.h"
#include "vigil/log.h"
#include "vigil/netaddr.h"
#include "vigil/util.h"

char *report_webhook_signature(const void *secret, size_t secret_len, const char *timestamp,
                               const char *body, size_t body_len)
{
    vg_buf signed_text = {0};
    vg_buf_puts(&signed_text, timestamp);
    vg_buf_puts(&signed_text, ".");
    vg_buf_append(&signed_text, body, body_len);
    unsigned char mac[32];
    vg_hmac_sha256(secret, secret_len, signed_text.data, signed_text.len, mac);
    vg_buf_free(&signed_text);
    char *hex = vg_hex_encode(mac, sizeof mac);
    char *sig = vg_asprintf("v1=%s", hex);
    free(hex);
    return sig;
}

static struct curl_slist *header_add(struct curl_slist *list, const char *name, const char *value)
{
    char *line = vg_asprintf("%s: %s", name, value);
    struct curl_slist *next = curl_slist_append(list, line);
    free(line);
    if (next == NULL) {
        abort(); /* out of memory, as vg_malloc would */
    }
    return next;
}

struct curl_slist *report_webhook_headers(const char *event, const char *delivery_id,
                                          const char *timestamp, const char *signature)
{
    struct curl_slist *h = NULL;
    h = header_add(h, "Content-Type", "application/json");
    h = header_add(h, "User-Agent", "Vigil-Webhook/1");
    h = header_add(h, "X-Vigil-Event", event);
    h = header_add(h, "X-Vigil-Delivery", delivery_id);
    h = header_add(h, "X-Vigil-Timestamp", timestamp);
    h = header_add(h, "X-Vigil-Signature", signature);
    /* "Name:" with nothing after it removes a header curl would add: no 100-continue wait */
    struct curl_slist *next = curl_slist_append(h, "Expect:");
    if (next == NULL) {
        abort();
    }
    return next;
}

static size_t discard_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    (void)ptr;
    (void)userdata;
    return size * nmemb;
}

/* CURLOPT_OPENSOCKETFUNCTION: refuses private addresses at connect time. */
static curl_socket_t open_public_socket(void *clientp, curlsocktype purpose,
                                        struct curl_sockaddr *address)
{
    (void)clientp;
    if (purpose == CURLSOCKTYPE_IPCXN && vg_addr_is_private(&address->addr)) {
        vg_warn("webhook connection to a private address refused");
        return CURL_SOCKET_BAD;
    }
    return socket(address->family, address->socktype, address->protocol);
}

void report_webhook_setup(CURL *easy, const char *url, const char *body, size_t body_len,
                          struct curl_slist *headers, long timeout_ms, bool allow_private)
{
    if (!allow_private) {
        curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, open_public_socket);
    }
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 5000 ? timeout_ms : 5000L);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard_body);
    curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)(64 * 1024));
}
