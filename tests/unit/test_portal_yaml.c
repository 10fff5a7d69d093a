/* Unit tests of the portal's YAML subset parser (services/portal/yaml.c). */
#include <stdlib.h>
#include <string.h>

#include "../../services/portal/yaml.h"
#include "harness.h"

/* Parses yaml and compares with the JSON text expected (compact, keys sorted). */
static int same(const char *yaml, const char *expected_json)
{
    char err[256];
    json_t *got = portal_yaml_parse(yaml, strlen(yaml), err, sizeof err);
    json_t *want = json_loads(expected_json, JSON_DECODE_ANY, NULL);
    int ok = got != NULL && want != NULL && json_equal(got, want);
    if (!ok) {
        char *g = got ? json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
        fprintf(stderr, "  yaml: %s\n  got: %s (%s)\n  want: %s\n", yaml, g ? g : "NULL", err,
                expected_json);
        free(g);
    }
    json_decref(got);
    json_decref(want);
    return ok;
}

/* Expects a parse error whose message contains `needle`. */
static int fails(const char *yaml, const char *needle)
{
    char err[256];
    json_t *got = portal_yaml_parse(yaml, strlen(yaml), err, sizeof err);
    int ok = got == NULL && strstr(err, needle) != NULL;
    if (!ok) {
        fprintf(stderr, "  yaml: %s\n  error: %s (wanted \"%s\")\n", yaml, got ? "none" : err,
                needle);
    }
    json_decref(got);
    return ok;
}

static void test_mappings(void)
{
    CHECK(same("a: 1\nb: two\n", "{\"a\":1,\"b\":\"two\"}"));
    CHECK(same("a:\n  b:\n    c: x\n  d: y\n", "{\"a\":{\"b\":{\"c\":\"x\"},\"d\":\"y\"}}"));
    CHECK(same("# top comment\na: 1 # trailing\n\n# more\nb: 2\n", "{\"a\":1,\"b\":2}"));
    CHECK(same("url: http://example.com:8080/x\n", "{\"url\":\"http://example.com:8080/x\"}"));
    CHECK(same("\"200\":\n  description: OK\n'a b': c\n",
               "{\"200\":{\"description\":\"OK\"},\"a b\":\"c\"}"));
    CHECK(same("empty:\nnext: 1\n", "{\"empty\":null,\"next\":1}"));
    CHECK(same("a: b#c\n", "{\"a\":\"b#c\"}"));
}

static void test_sequences(void)
{
    CHECK(same("- a\n- b\n", "[\"a\",\"b\"]"));
    CHECK(same("k:\n- 1\n- 2\nz: 3\n", "{\"k\":[1,2],\"z\":3}"));
    CHECK(same("k:\n  - name: a\n    in: query\n  - name: b\n",
               "{\"k\":[{\"name\":\"a\",\"in\":\"query\"},{\"name\":\"b\"}]}"));
    CHECK(same("- - 1\n  - 2\n- 3\n", "[[1,2],3]"));
    CHECK(same("-\n  a: 1\n", "[{\"a\":1}]"));
}

static void test_scalars(void)
{
    CHECK(same("[~, null, true, False, 12, -3, 0x1f, 0o17, 1.5, 2e3, .5, 1.0.0, 012x]",
               "[null,null,true,false,12,-3,31,15,1.5,2000.0,0.5,\"1.0.0\",\"012x\"]"));
    CHECK(same("a: \"line\\n\\ttab \\u00e9 \\x41\"\n", "{\"a\":\"line\\n\\ttab \\u00e9 A\"}"));
    CHECK(same("a: 'it''s # not a comment'\n", "{\"a\":\"it's # not a comment\"}"));
    CHECK(same("a: \"multi\n  line\n\n  text\"\n", "{\"a\":\"multi line\\ntext\"}"));
    CHECK(same("a: plain\n  continued\n", "{\"a\":\"plain continued\"}"));
    CHECK(same("v: 99999999999999999999\n", "{\"v\":1e20}"));
}

static void test_block_scalars(void)
{
    CHECK(same("d: |\n  one\n  two\n\n  three\nn: 1\n",
               "{\"d\":\"one\\ntwo\\n\\nthree\\n\",\"n\":1}"));
    CHECK(same("d: >\n  one\n  two\n\n  three\n", "{\"d\":\"one two\\nthree\\n\"}"));
    CHECK(same("d: |-\n  keep\n", "{\"d\":\"keep\"}"));
    CHECK(same("d: |+\n  keep\n\n", "{\"d\":\"keep\\n\\n\"}"));
    CHECK(same("d: >\n  a\n    indented\n  b\n", "{\"d\":\"a\\n  indented\\nb\\n\"}"));
    CHECK(same("d: |2\n    two extra\n", "{\"d\":\"  two extra\\n\"}"));
    CHECK(same("d: |\n  a\n      \n  b\n", "{\"d\":\"a\\n    \\nb\\n\"}"));
    CHECK(same("- |\n  # not a comment\n- x\n", "[\"# not a comment\\n\",\"x\"]"));
}

static void test_flow(void)
{
    CHECK(same("a: [1, b, \"c, d\"]\n", "{\"a\":[1,\"b\",\"c, d\"]}"));
    CHECK(same("a: {x: 1, 'y': [2, 3], z: }\n", "{\"a\":{\"x\":1,\"y\":[2,3],\"z\":null}}"));
    CHECK(same("a: [\n  1, # one\n  2,\n]\nb: {}\n", "{\"a\":[1,2],\"b\":{}}"));
    CHECK(same("{\"openapi\": \"3.0.0\", \"paths\": {}}", "{\"openapi\":\"3.0.0\",\"paths\":{}}"));
    CHECK(same("a: [it's, fine]\n", "{\"a\":[\"it's\",\"fine\"]}"));
}

static void test_documents(void)
{
    CHECK(same("%YAML 1.2\n---\na: 1\n...\n", "{\"a\":1}"));
    CHECK(same("\xEF\xBB\xBF---\r\na: 1\r\n", "{\"a\":1}"));
    CHECK(same("just text\n", "\"just text\""));
}

static void test_errors(void)
{
    CHECK(fails("a: 1\na: 2\n", "line 2: duplicate key \"a\""));
    CHECK(fails("a:\n\tb: 1\n", "line 2: tabs"));
    CHECK(fails("a: 1\n  b: 2\n", "line 2:"));
    CHECK(fails("a: [1, 2\n", "line 1: unterminated flow collection"));
    CHECK(fails("a: \"open\n", "line 1: unterminated"));
    CHECK(fails("a: &x 1\n", "anchors"));
    CHECK(fails("a: *x\n", "anchors"));
    CHECK(fails("? complex\n", "complex keys"));
    CHECK(fails("a: 1\n---\nb: 2\n", "line 2: only one YAML document"));
    CHECK(fails("a: b: c\n", "line 1:"));
    CHECK(fails("a: \"bad \\q\"\n", "invalid escape"));
    CHECK(fails("", "empty"));
    CHECK(fails("a: [1, 2] x\n", "unexpected text"));
    CHECK(fails("a: {b: 1] }\n", "line 1: expected ',' or '}'"));
    CHECK(same("a: {b: 1 c}\n", "{\"a\":{\"b\":\"1 c\"}}"));
    CHECK(fails("x: \"\xff\"\n", "UTF-8"));
    CHECK(fails("a: |x\n  b\n", "block scalar header"));
    char err[128];
    json_t *nul = portal_yaml_parse("a\0b", 3, err, sizeof err);
    CHECK(nul == NULL && strstr(err, "NUL") != NULL);
}

static void test_depth(void)
{
    char buf[400];
    memset(buf, '[', 200);
    memset(buf + 200, ']', 200);
    char *doc = strndup(buf, sizeof buf);
    CHECK(fails(doc, "nesting deeper"));
    free(doc);
}

int main(void)
{
    RUN(test_mappings);
    RUN(test_sequences);
    RUN(test_scalars);
    RUN(test_block_scalars);
    RUN(test_flow);
    RUN(test_documents);
    RUN(test_errors);
    RUN(test_depth);
    return harness_report("test_portal_yaml");
}
