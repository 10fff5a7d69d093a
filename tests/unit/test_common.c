/* Unit tests of the small common modules: util, crypto, netaddr, config, alloc. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "vigil/alloc.h"
#include "vigil/config.h"
#include "vigil/crypto.h"
#include "vigil/netaddr.h"
#include "vigil/util.h"

static void test_uuid(void)
{
    char a[37], b[37];
    vg_uuid_v4(a);
    vg_uuid_v4(b);
    CHECK(vg_uuid_valid(a));
    CHECK(strcmp(a, b) != 0);
    CHECK(a[14] == '4');
    CHECK(!vg_uuid_valid("not-a-uuid"));
    CHECK(!vg_uuid_valid("0123456789abcdef0123456789abcdef0123"));
    CHECK(vg_uuid_valid("01234567-89ab-cdef-0123-456789ABCDEF"));
}

static void test_time(void)
{
    struct timespec ts;
    CHECK(vg_time_parse("2026-11-26T23:30:28.123Z", &ts));
    CHECK_INT_EQ(ts.tv_sec, 1795735828);
    CHECK_INT_EQ(ts.tv_nsec, 123000000);
    CHECK(vg_time_parse("2026-11-27T01:30:28+02:00", &ts));
    CHECK_INT_EQ(ts.tv_sec, 1795735828);
    char out[32];
    vg_time_format(out, &(struct timespec){1795735828, 5000000});
    CHECK_STR_EQ(out, "2026-11-26T23:30:28.005Z");
    CHECK(!vg_time_parse("2026-13-01T00:00:00Z", &ts));
    CHECK(!vg_time_parse("2026-11-26 23:30", &ts));
    CHECK(!vg_time_parse("2026-11-26T23:30:28", &ts));
    CHECK(!vg_time_parse("", &ts));
}

static void test_base64(void)
{
    const char *cases[][2] = {
        {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foobar", "Zm9vYmFy"}};
    for (size_t i = 0; i < 5; i++) {
        char *enc = vg_base64_encode((const unsigned char *)cases[i][0], strlen(cases[i][0]));
        CHECK_STR_EQ(enc, cases[i][1]);
        size_t n = 0;
        unsigned char *dec = vg_base64_decode(enc, strlen(enc), &n);
        CHECK(dec != NULL && n == strlen(cases[i][0]) && memcmp(dec, cases[i][0], n) == 0);
        free(enc);
        free(dec);
    }
    size_t n;
    CHECK(vg_base64_decode("a!b=", 4, &n) == NULL);
    char *url = vg_base64url_encode((const unsigned char *)"\xfb\xff", 2);
    CHECK_STR_EQ(url, "-_8");
    free(url);
}

static void test_sha_hmac(void)
{
    char hex[65];
    vg_sha256_hex("abc", 3, hex);
    CHECK_STR_EQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    unsigned char mac[32];
    vg_hmac_sha256("key", 3, "The quick brown fox jumps over the lazy dog", 43, mac);
    char *mhex = vg_hex_encode(mac, 32);
    CHECK_STR_EQ(mhex, "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
    free(mhex);
    char *tok = vg_token_new("vgk");
    CHECK(strncmp(tok, "vgk_", 4) == 0 && strlen(tok) == 4 + 43);
    free(tok);
}

static void test_crypto(void)
{
    vg_master_key mk, other;
    char err[256];
    CHECK_INT_EQ(vg_master_key_load(&mk, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", false, err,
                                    sizeof err),
                 0);
    CHECK_INT_EQ(vg_master_key_load(&other, NULL, false, err, sizeof err), -1);
    CHECK(strstr(err, "VIGIL_MASTER_KEY") != NULL);
    CHECK_INT_EQ(vg_master_key_load(&other, "c2hvcnQ=", false, err, sizeof err), -1);
    CHECK_INT_EQ(vg_master_key_load(&other, NULL, true, err, sizeof err), 0);
    char *sealed = vg_secret_seal(&mk, "token-123", 9, "t1/c1");
    CHECK(sealed != NULL && strncmp(sealed, "v1:", 3) == 0);
    CHECK(strstr(sealed, "token-123") == NULL);
    size_t len = 0;
    unsigned char *plain = vg_secret_open(&mk, sealed, "t1/c1", &len);
    CHECK(plain != NULL && len == 9 && memcmp(plain, "token-123", 9) == 0);
    free(plain);
    CHECK(vg_secret_open(&mk, sealed, "t2/c1", &len) == NULL);    /* other tenant's aad */
    CHECK(vg_secret_open(&other, sealed, "t1/c1", &len) == NULL); /* other key */
    sealed[strlen(sealed) - 3] ^= 1;                              /* tampered */
    CHECK(vg_secret_open(&mk, sealed, "t1/c1", &len) == NULL);
    free(sealed);
}

static void test_netaddr(void)
{
    const char *priv[] = {"127.0.0.1",       "10.1.2.3",    "172.16.0.1",
                          "172.31.255.255",  "192.168.1.1", "169.254.169.254",
                          "100.64.0.1",      "0.0.0.0",     "::1",
                          "fd00::1",         "fe80::1",     "::ffff:127.0.0.1",
                          "::ffff:10.0.0.1", "224.0.0.1"};
    const char *pub[] = {"8.8.8.8", "172.32.0.1", "1.1.1.1", "2606:4700:4700::1111",
                         "::ffff:8.8.8.8"};
    bool p = false;
    for (size_t i = 0; i < sizeof priv / sizeof priv[0]; i++) {
        CHECK(vg_ip_literal_is_private(priv[i], &p) && p);
    }
    for (size_t i = 0; i < sizeof pub / sizeof pub[0]; i++) {
        CHECK(vg_ip_literal_is_private(pub[i], &p) && !p);
    }
    CHECK(!vg_ip_literal_is_private("example.com", &p));
    char err[256];
    CHECK_INT_EQ(vg_url_target_check("http://127.0.0.1:8080/x", false, err, sizeof err), -1);
    CHECK(strstr(err, "private") != NULL);
    CHECK_INT_EQ(vg_url_target_check("http://127.0.0.1:8080/x", true, err, sizeof err), 0);
    CHECK_INT_EQ(vg_url_target_check("http://user@8.8.8.8/", true, err, sizeof err), -1);
    CHECK_INT_EQ(vg_url_target_check("ftp://8.8.8.8/", true, err, sizeof err), -1);
    char pin[256];
    CHECK_INT_EQ(
        vg_url_target_pin("https://127.0.0.1:8443/x", true, pin, sizeof pin, err, sizeof err), 0);
    CHECK_STR_EQ(pin, "127.0.0.1:8443:127.0.0.1");
    CHECK_INT_EQ(vg_url_target_pin("http://[::1]/", true, pin, sizeof pin, err, sizeof err), 0);
    CHECK_STR_EQ(pin, "::1:80:[::1]");
    CHECK_INT_EQ(vg_url_target_pin("http://localhost:81/", false, pin, sizeof pin, err, sizeof err),
                 -1);
    char *scheme, *host, *path;
    int port;
    CHECK(vg_url_parse("HTTPS://[::1]:8443/a/b?c", &scheme, &host, &port, &path));
    CHECK_STR_EQ(scheme, "https");
    CHECK_STR_EQ(host, "::1");
    CHECK_INT_EQ(port, 8443);
    CHECK_STR_EQ(path, "/a/b?c");
    free(scheme);
    free(host);
    free(path);
}

typedef struct test_conf {
    vg_base_conf base;
    long workers;
} test_conf;

static const vg_cfg_entry test_table[] = {
    VG_CFG_BASE_ENTRIES(test_conf, "VIGIL_TEST_ADDR", "127.0.0.1:9999"),
    {"VIGIL_TEST_WORKERS", VG_CFG_INT, "4", offsetof(test_conf, workers), "workers", 1, 64},
    VG_CFG_END,
};

static void test_config(void)
{
    test_conf conf = {0};
    char err[256];
    unsetenv("VIGIL_TEST_WORKERS");
    setenv("VIGIL_DEV_MODE", "yes", 1);
    CHECK_INT_EQ(vg_config_load(test_table, &conf, err, sizeof err), 0);
    CHECK_INT_EQ(conf.workers, 4);
    CHECK(conf.base.dev_mode);
    CHECK_STR_EQ(conf.base.http_addr, "127.0.0.1:9999");
    vg_config_free(test_table, &conf);
    setenv("VIGIL_TEST_WORKERS", "100", 1);
    CHECK_INT_EQ(vg_config_load(test_table, &conf, err, sizeof err), -1);
    CHECK(strstr(err, "VIGIL_TEST_WORKERS") != NULL);
    setenv("VIGIL_TEST_WORKERS", "8", 1);
    setenv("VIGIL_TEST_ADDR", "nonsense", 1);
    CHECK_INT_EQ(vg_config_load(test_table, &conf, err, sizeof err), -1);
    CHECK(strstr(err, "VIGIL_TEST_ADDR") != NULL);
    unsetenv("VIGIL_TEST_ADDR");
    setenv("VIGIL_DEV_MODE", "maybe", 1);
    CHECK_INT_EQ(vg_config_load(test_table, &conf, err, sizeof err), -1);
    unsetenv("VIGIL_DEV_MODE");
    unsetenv("VIGIL_TEST_WORKERS");
}

static void test_buf(void)
{
    vg_buf b = {0};
    for (int i = 0; i < 1000; i++) {
        vg_buf_printf(&b, "%d,", i);
    }
    CHECK(b.len > 3000 && strncmp(b.data, "0,1,2,", 6) == 0);
    char *s = vg_buf_steal(&b);
    CHECK(b.data == NULL && b.len == 0);
    free(s);
    char *host;
    int port;
    CHECK(vg_split_hostport("[::1]:80", &host, &port) && port == 80 && strcmp(host, "::1") == 0);
    free(host);
    CHECK(!vg_split_hostport("localhost", &host, &port));
    CHECK(!vg_split_hostport("localhost:99999", &host, &port));
}

int main(void)
{
    RUN(test_uuid);
    RUN(test_time);
    RUN(test_base64);
    RUN(test_sha_hmac);
    RUN(test_crypto);
    RUN(test_netaddr);
    RUN(test_config);
    RUN(test_buf);
    return harness_report("common");
}
