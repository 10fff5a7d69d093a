/* E-mail: composing the multipart/alternative (text + HTML) message of a finding event or a
 * digest, the unsubscribe token of a recipient, and the libcurl SMTP transfer. */
#ifndef REPORT_MAIL_H
#define REPORT_MAIL_H

#include <curl/curl.h>
#include <jansson.h>
#include <stddef.h>

#include "vigil/crypto.h"

typedef struct report_mail {
    const char *from;            /* envelope and header sender */
    const char *to;              /* the recipient */
    const char *delivery_id;     /* outbox id: Message-ID and X-Vigil-Delivery */
    const char *event_type;      /* finding.opened, finding.reopened or digest */
    const char *unsubscribe_url; /* full link with the token */
    const char *date;            /* RFC 5322 date; NULL = now */
    const json_t *payload;       /* the finding, or {"findings":[...]} for a digest */
} report_mail;

/* The whole message with CRLF line ends; new string. Header values are stripped of
 * CR/LF and non-ASCII ones are RFC 2047 encoded; bodies are base64. */
char *report_mail_compose(const report_mail *m);

/* The recipient's unsubscribe token: "vgu_" + base64url(HMAC-SHA256(master key,
 * "unsubscribe:" + recipient_id)), stable so every mail carries a working link; only its
 * SHA-256 is stored. New string. */
char *report_unsubscribe_token(const vg_master_key *mk, const char *recipient_id);

/* What an SMTP upload reads from. */
typedef struct report_mail_upload {
    const char *data;
    size_t len;
    size_t pos;
} report_mail_upload;

/* Sets up easy to send up->data from `from` to rcpt (borrowed list) through smtp_url,
 * with STARTTLS when the server offers it (CURLUSESSL_TRY). */
void report_mail_setup(CURL *easy, const char *smtp_url, const char *from, struct curl_slist *rcpt,
                       report_mail_upload *up, long timeout_ms);

#endif
