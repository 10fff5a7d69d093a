/* Report delivery pieces without the network: webhook signature, retry delays, e-mail
 * composition, unsubscribe tokens, HTML escaping, tenant report page, finding validation. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../../services/report/findings.h"
#include "../../services/report/html.h"
#include "../../services/report/mail.h"
#include "../../services/report/outbox.h"
#include "../../services/report/tenant_report.h"
#include "../../services/report/webhook.h"
#include "harness.h"
#include "vigil/util.h"

static void test_signature_known_vector(void)
{
    const char *body = "{\"id\":\"d1\",\"type\":\"finding.opened\"}";
    char *sig = report_webhook_signature("whsec_test", 10, "1700000000", body, strlen(body));
    /* computed independently: hmac.new(b"whsec_test", b"1700000000." + body, sha256) */
    CHECK_STR_EQ(sig, "v1=23f34689c65ad2fc750b546a8f9875dabb76dd522aaa121f0223404c727bd286");
    char *other = report_webhook_signature("whsec_test", 10, "1700000001", body, strlen(body));
    CHECK(strcmp(sig, other) != 0);
    free(sig);
    free(other);
}

static void test_webhook_headers(void)
{
    struct curl_slist *h = report_webhook_headers("finding.opened", "d-1", "17", "v1=ab");
    int seen = 0;
    for (struct curl_slist *p = h; p != NULL; p = p->next) {
        seen += strcmp(p->data, "X-Vigil-Event: finding.opened") == 0;
        seen += strcmp(p->data, "X-Vigil-Delivery: d-1") == 0;
        seen += strcmp(p->data, "X-Vigil-Timestamp: 17") == 0;
        seen += strcmp(p->data, "X-Vigil-Signature: v1=ab") == 0;
    }
    CHECK_INT_EQ(seen, 4);
    curl_slist_free_all(h);
}

static void test_retry_delays(void)
{
    /* base 200: attempt 1 -> [100,200], 2 -> [200,400], 3 -> [400,800] */
    for (uint32_t rnd = 0; rnd < 1000; rnd += 37) {
        long d1 = report_retry_delay_ms(200, 3600000, 1, rnd);
        long d3 = report_retry_delay_ms(200, 3600000, 3, rnd);
        CHECK(d1 >= 100 && d1 <= 200);
        CHECK(d3 >= 400 && d3 <= 800);
    }
    CHECK_INT_EQ(report_retry_delay_ms(200, 3600000, 1, 0), 100);
    CHECK_INT_EQ(report_retry_delay_ms(200, 3600000, 1, 100), 200);
    /* capped */
    long big = report_retry_delay_ms(30000, 3600000, 40, 12345);
    CHECK(big >= 1800000 && big <= 3600000);
}

static char *decode_part(const char *msg, const char *type)
{
    const char *p = strstr(msg, type);
    if (p == NULL) {
        return NULL;
    }
    p = strstr(p, "\r\n\r\n");
    const char *end = strstr(p + 4, "--vigil-");
    vg_buf b64 = {0};
    for (const char *q = p + 4; q < end; q++) {
        if (*q != '\r' && *q != '\n') {
            vg_buf_append(&b64, q, 1);
        }
    }
    size_t len = 0;
    unsigned char *text = vg_base64_decode(b64.data, b64.len, &len);
    vg_buf_free(&b64);
    return (char *)text;
}

static void test_mail_compose(void)
{
    json_t *f = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "title", "Privileged <pod>\r\nBcc: x@evil",
                          "severity", "critical", "rule_id", "VGL-POD-001", "category", "workload",
                          "remediation", "Set privileged: false", "url",
                          "https://vigil.example.com/findings/1");
    report_mail m = {.from = "vigil@example.com",
                     .to = "secops@example.com",
                     .delivery_id = "0b7c1a8e-1111-4222-8333-944455556666",
                     .event_type = "finding.opened",
                     .unsubscribe_url = "https://vigil.example.com/unsubscribe?token=vgu_abc",
                     .date = "Thu, 26 Nov 2026 23:00:00 +0000",
                     .payload = f};
    char *msg = report_mail_compose(&m);
    CHECK(strstr(msg, "\r\nSubject: [Vigil] New critical finding: Privileged <pod>  Bcc: "
                      "x@evil\r\n") != NULL);
    CHECK(strstr(msg, "\r\nBcc:") == NULL); /* no header injection */
    CHECK(strstr(msg, "List-Unsubscribe: <https://vigil.example.com/unsubscribe?token=vgu_abc>") !=
          NULL);
    CHECK(strstr(msg, "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n") != NULL);
    CHECK(strstr(msg, "Message-ID: <0b7c1a8e-1111-4222-8333-944455556666@vigil>") != NULL);
    CHECK(strstr(msg, "multipart/alternative") != NULL);
    char *text = decode_part(msg, "text/plain");
    char *html = decode_part(msg, "text/html");
    CHECK(text != NULL && strstr(text, "Set privileged: false") != NULL);
    CHECK(text != NULL && strstr(text, "token=vgu_abc") != NULL);
    CHECK(html != NULL && strstr(html, "Privileged &lt;pod&gt;") != NULL);
    CHECK(html != NULL && strstr(html, "<pod>") == NULL);
    free(text);
    free(html);
    free(msg);
    json_decref(f);
}

static void test_mail_digest_and_utf8_subject(void)
{
    json_t *p = json_pack("{s:[{s:s,s:s},{s:s,s:s}]}", "findings", "title", "Élevé", "severity",
                          "low", "title", "second", "severity", "medium");
    report_mail m = {.from = "v@x",
                     .to = "r@x",
                     .delivery_id = "id-1",
                     .event_type = "digest",
                     .unsubscribe_url = "https://u",
                     .payload = p};
    char *msg = report_mail_compose(&m);
    CHECK(strstr(msg, "Subject: [Vigil] Digest: 2 new findings\r\n") != NULL);
    char *text = decode_part(msg, "text/plain");
    CHECK(text != NULL && strstr(text, "Élevé") != NULL && strstr(text, "second") != NULL);
    free(text);
    free(msg);
    json_decref(p);
    json_t *f = json_pack("{s:s,s:s}", "title", "Accès root", "severity", "high");
    report_mail one = {.from = "v@x",
                       .to = "r@x",
                       .delivery_id = "id-2",
                       .event_type = "finding.reopened",
                       .unsubscribe_url = "https://u",
                       .payload = f};
    msg = report_mail_compose(&one);
    CHECK(strstr(msg, "Subject: =?UTF-8?B?") != NULL);
    free(msg);
    json_decref(f);
}

static void test_unsubscribe_token(void)
{
    vg_master_key mk;
    memset(&mk, 7, sizeof mk);
    char *a = report_unsubscribe_token(&mk, "r1");
    char *b = report_unsubscribe_token(&mk, "r1");
    char *c = report_unsubscribe_token(&mk, "r2");
    CHECK_STR_EQ(a, b);
    CHECK(strcmp(a, c) != 0);
    CHECK(strncmp(a, "vgu_", 4) == 0 && strlen(a) == 4 + 43);
    free(a);
    free(b);
    free(c);
}

static void test_tenant_html_escapes(void)
{
    json_t *data = json_loads(
        "{\"tenant\":\"<script>alert(1)</script>\",\"generated_at\":\"2026-11-26T00:00:00Z\","
        "\"by_severity\":{\"critical\":2,\"high\":1,\"medium\":0,\"low\":0,\"info\":0},"
        "\"by_category\":[{\"category\":\"rbac & \\\"auth\\\"\",\"count\":3}],"
        "\"by_cluster\":[{\"cluster\":\"prod\",\"count\":3}],"
        "\"top_risks\":[{\"severity\":\"critical\",\"rule_id\":\"KHV036\",\"title\":\"<b>x</b>\","
        "\"object\":{\"kind\":\"Host\",\"name\":\"10.0.0.1\"}}],"
        "\"changes\":{\"opened\":3,\"resolved\":1,\"opened_previous_week\":0,"
        "\"resolved_previous_week\":2}}",
        0, NULL);
    CHECK(data != NULL);
    char *html = report_tenant_html(data);
    CHECK(strstr(html, "<script>") == NULL);
    CHECK(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;") != NULL);
    CHECK(strstr(html, "rbac &amp; &quot;auth&quot;") != NULL);
    CHECK(strstr(html, "&lt;b&gt;x&lt;/b&gt;") != NULL);
    CHECK(strstr(html, "<style>") != NULL); /* self-contained */
    CHECK(strstr(html, "<link") == NULL && strstr(html, "src=") == NULL);
    CHECK(strstr(html, "sev-critical\">critical</td><td class=\"n\">2") != NULL);
    free(html);
    json_decref(data);
}

static void test_finding_validation(void)
{
    char err[200];
    json_t *f = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "fingerprint", "ab12", "source",
                          "posture", "scope", "posture", "rule_id", "VGL-POD-001", "title", "t",
                          "severity", "high", "category", "workload");
    CHECK_INT_EQ(report_finding_validate(f, err, sizeof err), 0);
    json_object_set_new(f, "severity", json_string("urgent"));
    CHECK_INT_EQ(report_finding_validate(f, err, sizeof err), -1);
    CHECK(strstr(err, "severity") != NULL);
    json_object_set_new(f, "severity", json_string("low"));
    json_object_set_new(f, "fingerprint", json_string("not hex!"));
    CHECK_INT_EQ(report_finding_validate(f, err, sizeof err), -1);
    json_object_set_new(f, "fingerprint", json_string("ab12"));
    json_object_set_new(f, "object", json_string("pod"));
    CHECK_INT_EQ(report_finding_validate(f, err, sizeof err), -1);
    json_object_del(f, "object");
    json_object_del(f, "title");
    CHECK_INT_EQ(report_finding_validate(f, err, sizeof err), -1);
    CHECK(strstr(err, "title") != NULL);
    json_decref(f);
}

static void test_html_escape(void)
{
    vg_buf b = {0};
    report_html_escape(&b, "a<b>&\"'c");
    report_html_escape(&b, NULL);
    CHECK_STR_EQ(b.data, "a&lt;b&gt;&amp;&quot;&#39;c");
    vg_buf_free(&b);
}

int main(void)
{
    RUN(test_signature_known_vector);
    RUN(test_webhook_headers);
    RUN(test_retry_delays);
    RUN(test_mail_compose);
    RUN(test_mail_digest_and_utf8_subject);
    RUN(test_unsubscribe_token);
    RUN(test_tenant_html_escapes);
    RUN(test_finding_validation);
    RUN(test_html_escape);
    return harness_report("report_delivery");
}
