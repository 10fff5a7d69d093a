/* E-mail composition and SMTP transfer setup. */
#include "mail.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "html.h"
#include "vigil/alloc.h"
#include "vigil/util.h"

static const char *jtext(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s != NULL ? s : "";
}

char *report_unsubscribe_token(const vg_master_key *mk, const char *recipient_id)
{
    char *text = vg_asprintf("unsubscribe:%s", recipient_id);
    unsigned char mac[32];
    vg_hmac_sha256(mk->key, sizeof mk->key, text, strlen(text), mac);
    free(text);
    char *b64 = vg_base64url_encode(mac, sizeof mac);
    char *token = vg_asprintf("vgu_%s", b64);
    free(b64);
    return token;
}

/* Appends "Name: value\r\n"; the value loses CR/LF and is B-encoded when not plain ASCII. */
static void header(vg_buf *out, const char *name, const char *value)
{
    bool plain = true;
    vg_buf clean = {0};
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if (*p == '\r' || *p == '\n') {
            vg_buf_puts(&clean, " ");
            continue;
        }
        plain = plain && *p >= 0x20 && *p < 0x7f;
        vg_buf_append(&clean, p, 1);
    }
    vg_buf_printf(out, "%s: ", name);
    if (plain) {
        vg_buf_append(out, clean.data ? clean.data : "", clean.len);
    } else {
        char *b64 = vg_base64_encode((const unsigned char *)clean.data, clean.len);
        vg_buf_printf(out, "=?UTF-8?B?%s?=", b64);
        free(b64);
    }
    vg_buf_puts(out, "\r\n");
    vg_buf_free(&clean);
}

/* Appends a base64 body wrapped at 76 columns. */
static void body_base64(vg_buf *out, const char *text)
{
    char *b64 = vg_base64_encode((const unsigned char *)text, strlen(text));
    size_t n = strlen(b64);
    for (size_t i = 0; i < n; i += 76) {
        vg_buf_append(out, b64 + i, n - i < 76 ? n - i : 76);
        vg_buf_puts(out, "\r\n");
    }
    free(b64);
}

static void text_finding(vg_buf *t, const json_t *f)
{
    vg_buf_printf(t, "[%s] %s\n  rule: %s   category: %s   source: %s\n", jtext(f, "severity"),
                  jtext(f, "title"), jtext(f, "rule_id"), jtext(f, "category"), jtext(f, "source"));
    const json_t *obj = json_object_get(f, "object");
    if (json_object_size(obj) > 0) {
        char *o = json_dumps(obj, JSON_COMPACT);
        vg_buf_printf(t, "  object: %s\n", o);
        free(o);
    }
    if (jtext(f, "remediation")[0]) {
        vg_buf_printf(t, "  remediation: %s\n", jtext(f, "remediation"));
    }
    if (jtext(f, "url")[0]) {
        vg_buf_printf(t, "  details: %s\n", jtext(f, "url"));
    }
}

static void html_finding(vg_buf *h, const json_t *f)
{
    vg_buf_puts(h, "<div style=\"border:1px solid #d0d4dc;padding:8px;margin:8px 0\">"
                   "<p style=\"margin:0\"><b>[");
    report_html_escape(h, jtext(f, "severity"));
    vg_buf_puts(h, "]</b> ");
    report_html_escape(h, jtext(f, "title"));
    vg_buf_puts(h, "</p><p style=\"margin:4px 0;color:#555\">rule ");
    report_html_escape(h, jtext(f, "rule_id"));
    vg_buf_puts(h, " &middot; ");
    report_html_escape(h, jtext(f, "category"));
    vg_buf_puts(h, "</p>");
    if (jtext(f, "remediation")[0]) {
        vg_buf_puts(h, "<p style=\"margin:4px 0\">Remediation: ");
        report_html_escape(h, jtext(f, "remediation"));
        vg_buf_puts(h, "</p>");
    }
    if (jtext(f, "url")[0]) {
        vg_buf_puts(h, "<p style=\"margin:4px 0\"><a href=\"");
        report_html_escape(h, jtext(f, "url"));
        vg_buf_puts(h, "\">Open in Vigil</a></p>");
    }
    vg_buf_puts(h, "</div>");
}

/* Subject and both bodies. */
static char *mail_content(const report_mail *m, vg_buf *text, vg_buf *html)
{
    bool digest = strcmp(m->event_type, "digest") == 0;
    const json_t *list = json_object_get(m->payload, "findings");
    char *subject;
    vg_buf_puts(html, "<!DOCTYPE html><html><body style=\"font-family:sans-serif\">");
    if (digest) {
        size_t n = json_array_size(list);
        subject = vg_asprintf("[Vigil] Digest: %zu new finding%s", n, n == 1 ? "" : "s");
        vg_buf_printf(text, "%zu new finding%s since the last digest:\n\n", n, n == 1 ? "" : "s");
        vg_buf_printf(html, "<h2>%zu new finding%s since the last digest</h2>", n,
                      n == 1 ? "" : "s");
        size_t i;
        const json_t *f;
        json_array_foreach(list, i, f)
        {
            text_finding(text, f);
            vg_buf_puts(text, "\n");
            html_finding(html, f);
        }
    } else {
        const char *what = strcmp(m->event_type, "finding.reopened") == 0 ? "Reopened" : "New";
        subject = vg_asprintf("[Vigil] %s %s finding: %s", what, jtext(m->payload, "severity"),
                              jtext(m->payload, "title"));
        vg_buf_printf(text, "%s finding in your clusters:\n\n", what);
        text_finding(text, m->payload);
        vg_buf_printf(html, "<h2>%s finding in your clusters</h2>", what);
        html_finding(html, m->payload);
    }
    vg_buf_printf(text, "\nUnsubscribe: %s\n", m->unsubscribe_url);
    vg_buf_puts(html, "<p style=\"color:#777;font-size:small\"><a href=\"");
    report_html_escape(html, m->unsubscribe_url);
    vg_buf_puts(html, "\">Unsubscribe</a> from Vigil e-mails.</p></body></html>");
    return subject;
}

char *report_mail_compose(const report_mail *m)
{
    vg_buf text = {0}, html = {0}, out = {0};
    char *subject = mail_content(m, &text, &html);
    char date[64];
    if (m->date != NULL) {
        snprintf(date, sizeof date, "%s", m->date);
    } else {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    }
    char *msgid = vg_asprintf("<%s@vigil>", m->delivery_id);
    char *unsub = vg_asprintf("<%s>", m->unsubscribe_url);
    header(&out, "From", m->from);
    header(&out, "To", m->to);
    header(&out, "Subject", subject);
    header(&out, "Date", date);
    header(&out, "Message-ID", msgid);
    header(&out, "MIME-Version", "1.0");
    header(&out, "List-Unsubscribe", unsub);
    header(&out, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
    header(&out, "X-Vigil-Delivery", m->delivery_id);
    header(&out, "X-Vigil-Event", m->event_type);
    vg_buf_printf(&out, "Content-Type: multipart/alternative; boundary=\"vigil-%s\"\r\n\r\n",
                  m->delivery_id);
    vg_buf_printf(&out,
                  "--vigil-%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                  "Content-Transfer-Encoding: base64\r\n\r\n",
                  m->delivery_id);
    body_base64(&out, text.data);
    vg_buf_printf(&out,
                  "--vigil-%s\r\nContent-Type: text/html; charset=utf-8\r\n"
                  "Content-Transfer-Encoding: base64\r\n\r\n",
                  m->delivery_id);
    body_base64(&out, html.data);
    vg_buf_printf(&out, "--vigil-%s--\r\n", m->delivery_id);
    free(subject);
    free(msgid);
    free(unsub);
    vg_buf_free(&text);
    vg_buf_free(&html);
    return vg_buf_steal(&out);
}

static size_t upload_read(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    report_mail_upload *up = userdata;
    size_t room = size * nmemb;
    size_t left = up->len - up->pos;
    size_t n = left < room ? left : room;
    memcpy(ptr, up->data + up->pos, n);
    up->pos += n;
    return n;
}

void report_mail_setup(CURL *easy, const char *smtp_url, const char *from, struct curl_slist *rcpt,
                       report_mail_upload *up, long timeout_ms)
{
    curl_easy_setopt(easy, CURLOPT_URL, smtp_url);
    curl_easy_setopt(easy, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(easy, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(easy, CURLOPT_READFUNCTION, upload_read);
    curl_easy_setopt(easy, CURLOPT_READDATA, up);
    curl_easy_setopt(easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)up->len);
    curl_easy_setopt(easy, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
}
