/* JWT forging for the broken-authentication checks: parse, alg=none, HS256 signing (checked
 * against the RFC 7515 appendix A.1 style known answer), weak-secret cracking, tampering. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../../services/fuzzer/jwt.h"
#include "harness.h"
#include "vigil/alloc.h"
#include "vigil/util.h"

/* The jwt.io example token: HS256 over {"sub":"1234567890","name":"John Doe","iat":1516239022}
 * with the secret "your-256-bit-secret". */
static const char *const jwtio =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwi"
    "aWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";

static void test_parse(void)
{
    json_t *h = NULL, *p = NULL;
    CHECK(fz_jwt_parse(jwtio, &h, &p));
    CHECK_STR_EQ(json_string_value(json_object_get(h, "alg")), "HS256");
    CHECK_STR_EQ(json_string_value(json_object_get(p, "name")), "John Doe");
    json_decref(h);
    json_decref(p);
    CHECK(!fz_jwt_parse("a.b", NULL, NULL));
    CHECK(!fz_jwt_parse("a.b.c.d", NULL, NULL));
    CHECK(!fz_jwt_parse("bm90IGpzb24.bm90IGpzb24.x", NULL, NULL));
    CHECK(!fz_jwt_parse("", NULL, NULL));
}

static void test_crack_known_answer(void)
{
    int idx = fz_jwt_crack_hs256(jwtio, fz_jwt_weak_secrets);
    CHECK(idx >= 0);
    CHECK_STR_EQ(fz_jwt_weak_secrets[idx], "your-256-bit-secret");
    static const char *const strong[] = {"nope", "also-nope", NULL};
    CHECK_INT_EQ(fz_jwt_crack_hs256(jwtio, strong), -1);
}

static void test_sign_roundtrip(void)
{
    json_t *p = json_pack("{s:s,s:I}", "sub", "42", "exp", (json_int_t)1);
    char *tok = fz_jwt_sign_hs256(p, "secret");
    json_t *h2 = NULL, *p2 = NULL;
    CHECK(fz_jwt_parse(tok, &h2, &p2));
    CHECK(json_equal(p, p2));
    CHECK_STR_EQ(json_string_value(json_object_get(h2, "alg")), "HS256");
    int idx = fz_jwt_crack_hs256(tok, fz_jwt_weak_secrets);
    CHECK(idx >= 0 && strcmp(fz_jwt_weak_secrets[idx], "secret") == 0);
    /* signature independently recomputed */
    const char *dot = strrchr(tok, '.');
    unsigned char mac[32];
    vg_hmac_sha256("secret", 6, tok, (size_t)(dot - tok), mac);
    char *sig = vg_base64url_encode(mac, 32);
    CHECK_STR_EQ(dot + 1, sig);
    free(sig);
    free(tok);
    json_decref(p);
    json_decref(h2);
    json_decref(p2);
}

static void test_forge_none(void)
{
    char *none = fz_jwt_forge_none(jwtio);
    CHECK(none != NULL && none[strlen(none) - 1] == '.');
    json_t *h = NULL, *p = NULL;
    CHECK(fz_jwt_parse(none, &h, &p));
    CHECK_STR_EQ(json_string_value(json_object_get(h, "alg")), "none");
    CHECK_STR_EQ(json_string_value(json_object_get(p, "sub")), "1234567890");
    CHECK_INT_EQ(fz_jwt_crack_hs256(none, fz_jwt_weak_secrets), -1); /* not HS256 */
    json_decref(h);
    json_decref(p);
    free(none);
    CHECK(fz_jwt_forge_none("garbage") == NULL);
}

static void test_tamper(void)
{
    char *bad = fz_jwt_tamper(jwtio);
    CHECK(bad != NULL && strcmp(bad, jwtio) != 0 && strlen(bad) == strlen(jwtio));
    CHECK(strncmp(bad, jwtio, (size_t)(strrchr(jwtio, '.') - jwtio)) == 0);
    CHECK_INT_EQ(fz_jwt_crack_hs256(bad, fz_jwt_weak_secrets), -1);
    free(bad);
}

static void test_from_header(void)
{
    char *line = vg_asprintf("Authorization: Bearer %s", jwtio);
    char *t = fz_jwt_from_header(line);
    CHECK_STR_EQ(t, jwtio);
    free(t);
    free(line);
    CHECK(fz_jwt_from_header("Authorization: Bearer opaque-token") == NULL);
    CHECK(fz_jwt_from_header("X-Api-Key: abc") == NULL);
}

int main(void)
{
    RUN(test_parse);
    RUN(test_crack_known_answer);
    RUN(test_sign_roundtrip);
    RUN(test_forge_none);
    RUN(test_tamper);
    RUN(test_from_header);
    return harness_report("test_fuzzer_jwt");
}
