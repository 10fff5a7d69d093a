/* Payload generation and the response signatures the injection and misconfiguration checks
 * rely on. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../../services/fuzzer/payloads.h"
#include "harness.h"

static void test_sql_payloads(void)
{
    char *t = fz_payload_sql_bool("books", true), *f = fz_payload_sql_bool("books", false);
    CHECK_STR_EQ(t, "books' AND 'vg'='vg");
    CHECK_STR_EQ(f, "books' AND 'vg'='vx");
    char *e = fz_payload_sql_error("x");
    CHECK_STR_EQ(e, "x'\"");
    for (int v = 0; v < FZ_SQL_TIME_VARIANTS; v++) {
        char *s = fz_payload_sql_time("books", v, 2);
        CHECK(strncmp(s, "books'", 6) == 0 && strchr(s, '2') != NULL);
        free(s);
    }
    char *pg = fz_payload_sql_time("b", 0, 3);
    CHECK(strstr(pg, "pg_sleep(3)") != NULL);
    free(pg);
    free(t);
    free(f);
    free(e);
}

static void test_cmd_payloads(void)
{
    char *expect = NULL;
    char *p = fz_payload_cmd_echo("127.0.0.1", 0, 1337, 7331, &expect);
    CHECK_STR_EQ(p, "127.0.0.1;echo $((1337*7331))");
    CHECK_STR_EQ(expect, "9801547");
    CHECK(strstr(p, expect) == NULL); /* the proof is never in the request */
    free(p);
    free(expect);
    char *s = fz_payload_cmd_sleep("h", 1, 2);
    CHECK_STR_EQ(s, "h$(sleep 2)");
    free(s);
}

static void test_redos_and_big(void)
{
    char *r = fz_payload_redos(5);
    CHECK_STR_EQ(r, "aaaaa!");
    free(r);
    char *b = fz_payload_big(1 << 20);
    CHECK_INT_EQ(strlen(b), 1 << 20);
    CHECK(b[0] == 'A' && b[(1 << 20) - 1] == 'A');
    free(b);
    char *m1 = fz_payload_marker("vg"), *m2 = fz_payload_marker("vg");
    CHECK_INT_EQ(strlen(m1), 26);
    CHECK(strcmp(m1, m2) != 0);
    free(m1);
    free(m2);
}

static void test_schema_samples(void)
{
    json_t *schema = json_loads(
        "{\"type\":\"object\",\"properties\":{\"item\":{\"type\":\"string\",\"example\":\"kb\"},"
        "\"qty\":{\"type\":\"integer\"},\"mail\":{\"type\":\"string\",\"format\":\"email\"},"
        "\"id\":{\"type\":\"integer\",\"readOnly\":true},\"tags\":{\"type\":\"array\","
        "\"items\":{\"type\":\"string\",\"enum\":[\"a\",\"b\"]}}}}",
        0, NULL);
    json_t *s = fz_payload_from_schema(schema, 0);
    CHECK_STR_EQ(json_string_value(json_object_get(s, "item")), "kb");
    CHECK_INT_EQ(json_integer_value(json_object_get(s, "qty")), 1);
    CHECK_STR_EQ(json_string_value(json_object_get(s, "mail")), "vigil@example.com");
    CHECK(json_object_get(s, "id") == NULL);
    CHECK_STR_EQ(json_string_value(json_array_get(json_object_get(s, "tags"), 0)), "a");
    json_decref(s);
    json_decref(schema);
    char *v = fz_payload_param_value("integer", NULL, NULL);
    CHECK_STR_EQ(v, "1");
    free(v);
    v = fz_payload_param_value("string", "uri", NULL);
    CHECK_STR_EQ(v, "https://example.com/");
    free(v);
    v = fz_payload_param_value("string", NULL, "books");
    CHECK_STR_EQ(v, "books");
    free(v);
}

static void test_signatures(void)
{
    CHECK(fz_match_sql_error("ERROR:  unterminated quoted string at or near \"'\""));
    CHECK(fz_match_sql_error("You have an error in your SQL syntax; check the manual"));
    CHECK(fz_match_sql_error("ORA-01756: quoted string not properly terminated"));
    CHECK(fz_match_sql_error("sqlite3.OperationalError: near \"x\""));
    CHECK(!fz_match_sql_error("{\"items\":[]}"));
    CHECK(!fz_match_sql_error("the order syntax is fine"));
    CHECK(fz_match_stack_trace("Traceback (most recent call last):\n  File \"/app/x.py\", line 3"));
    CHECK(fz_match_stack_trace("at com.shop.Orders.get(Orders.java:42)"));
    CHECK(fz_match_stack_trace("    at parse_order_id(src/handlers/orders.c:112)"));
    CHECK(fz_match_stack_trace("goroutine 1 [running]:\nmain.main()"));
    CHECK(!fz_match_stack_trace("{\"error\":\"not found\"}"));
    CHECK(!fz_match_stack_trace("{\"error\":\"invalid id, look at the docs\"}"));
    CHECK(!fz_match_stack_trace(NULL));
}

int main(void)
{
    RUN(test_sql_payloads);
    RUN(test_cmd_payloads);
    RUN(test_redos_and_big);
    RUN(test_schema_samples);
    RUN(test_signatures);
    return harness_report("test_fuzzer_payloads");
}
