/* Webhook requests: the signature customers verify (docs/report.md) and the libcurl easy
 * handle of one attempt (POST, no redirects, timeouts, signed headers). */
#ifndef REPORT_WEBHOOK_H
#define REPORT_WEBHOOK_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

/* "v1=" + lowercase hex HMAC-SHA256(secret, timestamp + "." + body); new string. */
char *report_webhook_signature(const void *secret, size_t secret_len, const char *timestamp,
                               const char *body, size_t body_len);

/* Headers of one attempt (caller curl_slist_free_all()s): Content-Type, User-Agent,
 * X-Vigil-Event, X-Vigil-Delivery, X-Vigil-Timestamp and X-Vigil-Signature. */
struct curl_slist *report_webhook_headers(const char *event, const char *delivery_id,
                                          const char *timestamp, const char *signature);

/* Sets up easy for one POST of body (borrowed, must outlive the transfer) to url with
 * headers (borrowed): no redirects, http/https only, timeout_ms for the whole attempt. Unless
 * allow_private, every address libcurl is about to connect to is checked again at connect
 * time, so a name that resolves to a private address after the URL check is refused too. */
void report_webhook_setup(CURL *easy, const char *url, const char *body, size_t body_len,
                          struct curl_slist *headers, long timeout_ms, bool allow_private);

#endif
