/* Evidence redaction and curl-line generation: credentials never appear in findings. */
#include <stdlib.h>
#include <string.h>

#include "../../services/fuzzer/engine.h"
#include "../../services/fuzzer/redact.h"
#include "harness.h"

#define JWT "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2lnbmF0dXJl"

static void test_header_lines(void)
{
    char *a = fz_redact_header_line("Authorization: Bearer " JWT);
    CHECK_STR_EQ(a, "Authorization: <redacted>");
    char *c = fz_redact_header_line("Cookie: session=abc");
    CHECK_STR_EQ(c, "Cookie: <redacted>");
    char *k = fz_redact_header_line("X-Api-Key: k");
    CHECK_STR_EQ(k, "X-Api-Key: <redacted>");
    char *t = fz_redact_header_line("X-Refresh-Token: r");
    CHECK_STR_EQ(t, "X-Refresh-Token: <redacted>");
    char *o = fz_redact_header_line("Accept: application/json");
    CHECK_STR_EQ(o, "Accept: application/json");
    free(a);
    free(c);
    free(k);
    free(t);
    free(o);
    CHECK(fz_header_is_secret("set-cookie"));
    CHECK(!fz_header_is_secret("Content-Type"));
}

static void test_text(void)
{
    const char *body = "{\"token\":\"" JWT "\",\"password_hash\":\"$2b$12$abc\",\"name\":\"al\","
                       "\"note\":\"Bearer opaque123 used\",\"api_key\":\"ak_live_x\"}";
    char *r = fz_redact_text(body, strlen(body), 4096);
    CHECK(strstr(r, "eyJ") == NULL);
    CHECK(strstr(r, "$2b$12$abc") == NULL);
    CHECK(strstr(r, "opaque123") == NULL);
    CHECK(strstr(r, "ak_live_x") == NULL);
    CHECK(strstr(r, "\"password_hash\":\"<redacted>\"") != NULL);
    CHECK(strstr(r, "\"name\":\"al\"") != NULL);
    free(r);
    char *cut = fz_redact_text("abcdefghij", 10, 4);
    CHECK_STR_EQ(cut, "abcd...[10 bytes]");
    free(cut);
    char *emb = fz_redact_text("x" JWT "y", strlen(JWT) + 2, 1000);
    CHECK(strstr(emb, "c2lnbmF0") == NULL);
    free(emb);
}

static void test_curl_line(void)
{
    fz_req *req = fz_req_new("POST", "http://api.example/x?q=it's");
    fz_req_add_header(req, "Authorization: Bearer " JWT);
    fz_req_add_header(req, "Accept: application/json");
    req->identity = "alice";
    fz_req_set_body(req, "application/json", "{\"password\":\"hunter2\",\"a\":1}", 29);
    char *line = fz_curl_line(req);
    CHECK_STR_EQ(line, "curl -i -X 'POST' -H 'Authorization: <alice:Authorization>'"
                       " -H 'Accept: application/json' -H 'Content-Type: application/json'"
                       " --data-binary '{\"password\":\"<redacted>\",\"a\":1}'"
                       " 'http://api.example/x?q=it'\\''s'");
    free(line);
    fz_req_destroy(req);
    fz_req *get = fz_req_new("GET", "http://h/p");
    line = fz_curl_line(get);
    CHECK_STR_EQ(line, "curl -i 'http://h/p'");
    free(line);
    fz_req_destroy(get);
    fz_req *big = fz_req_new("POST", "http://h/p");
    char *payload = calloc(1, 5000);
    memset(payload, 'A', 4999);
    fz_req_set_body(big, NULL, payload, 4999);
    line = fz_curl_line(big);
    CHECK(strstr(line, "--data-binary @body.bin") != NULL && strstr(line, "4999 bytes") != NULL);
    CHECK(strlen(line) < 300);
    free(line);
    free(payload);
    fz_req_destroy(big);
}

static void test_shell_quote(void)
{
    char *q = fz_shell_quote("a'b$(x)");
    CHECK_STR_EQ(q, "'a'\\''b$(x)'");
    free(q);
}

int main(void)
{
    RUN(test_header_lines);
    RUN(test_text);
    RUN(test_curl_line);
    RUN(test_shell_quote);
    return harness_report("test_fuzzer_redact");
}
