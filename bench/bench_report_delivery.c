/* Report service benchmark, against the dev stack (deploy/dev/stack.sh up) and bin/vigil-report:
 *   1. findings/s from Kafka into the outbox: N finding.observed messages are queued in
 *      vigil.findings, then vigil-report starts with its delivery worker idle; timed from
 *      ready until every finding's outbox rows (one per webhook) are committed;
 *   2. webhook deliveries/s: the service restarted with the worker polling; timed until this
 *      program's receiver has accepted every delivery (each HMAC signature verified).
 * Usage: bin/bench_report_delivery [findings (2000)] [webhooks (4)]
 * Creates its own database and topic prefix and drops the database at the end. */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vigil/alloc.h"
#include "vigil/crypto.h"
#include "vigil/db.h"
#include "vigil/envelope.h"
#include "vigil/kafka.h"
#include "vigil/log.h"
#include "vigil/migrate.h"
#include "vigil/util.h"

#define MAX_HOOKS 32
#define PG "postgresql://postgres@127.0.0.1:55432/"
#define BROKERS "127.0.0.1:9092"

typedef struct receiver {
    struct event_base *base;
    struct evhttp *http;
    int port;
    char secrets[MAX_HOOKS][64];
    int nhooks;
    atomic_long ok;
    atomic_long bad;
} receiver;

static double now_s(void)
{
    return (double)vg_now_ms() / 1000.0;
}

/* POST /hook/<i>: verifies v1=HMAC-SHA256(secret, timestamp "." body) and counts it. */
static void on_hook(struct evhttp_request *req, void *arg)
{
    receiver *rx = arg;
    int i = -1;
    sscanf(evhttp_request_get_uri(req), "/hook/%d", &i);
    struct evkeyvalq *h = evhttp_request_get_input_headers(req);
    const char *ts = evhttp_find_header(h, "X-Vigil-Timestamp");
    const char *sig = evhttp_find_header(h, "X-Vigil-Signature");
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    bool good = false;
    if (i >= 0 && i < rx->nhooks && ts && sig && strncmp(sig, "v1=", 3) == 0) {
        vg_buf msg = {0};
        vg_buf_printf(&msg, "%s.", ts);
        vg_buf_append(&msg, evbuffer_pullup(in, (ev_ssize_t)len), len);
        unsigned char mac[32];
        vg_hmac_sha256(rx->secrets[i], strlen(rx->secrets[i]), msg.data, msg.len, mac);
        char *hex = vg_hex_encode(mac, sizeof mac);
        good = strlen(sig + 3) == 64 && vg_ct_equal(hex, sig + 3, 64);
        free(hex);
        vg_buf_free(&msg);
    }
    atomic_fetch_add(good ? &rx->ok : &rx->bad, 1);
    evhttp_send_reply(req, good ? 200 : 401, good ? "OK" : "Unauthorized", NULL);
}

static void *receiver_run(void *arg)
{
    receiver *rx = arg;
    event_base_dispatch(rx->base);
    return NULL;
}

static int receiver_start(receiver *rx, pthread_t *thread)
{
    rx->base = event_base_new();
    rx->http = evhttp_new(rx->base);
    evhttp_set_gencb(rx->http, on_hook, rx);
    struct evhttp_bound_socket *s = evhttp_bind_socket_with_handle(rx->http, "127.0.0.1", 0);
    if (s == NULL) {
        return -1;
    }
    struct sockaddr_in sin;
    socklen_t slen = sizeof sin;
    getsockname(evhttp_bound_socket_get_fd(s), (struct sockaddr *)&sin, &slen);
    rx->port = ntohs(sin.sin_port);
    return pthread_create(thread, NULL, receiver_run, rx);
}

static long count_rows(vg_db *db, const char *sql)
{
    PGresult *res = vg_db_exec(db, sql, 0, NULL);
    long n = res ? strtol(PQgetvalue(res, 0, 0), NULL, 10) : -1;
    PQclear(res);
    return n;
}

static int seed(vg_db *db, const vg_master_key *mk, receiver *rx, char tenant[37], char cluster[37])
{
    vg_uuid_v4(tenant);
    vg_uuid_v4(cluster);
    const char *p[] = {tenant, cluster};
    if (vg_db_cmd(db, "INSERT INTO tenants (id, name) VALUES ($1, 'bench')", 1, p) != 0 ||
        vg_db_cmd(db,
                  "INSERT INTO clusters (id, tenant_id, name, server, ca_cert, credential, key_id, "
                  "ingest_token_prefix, ingest_token_hash) VALUES ($2, $1, 'c', 'https://k', "
                  "'ca', 's', 'k', 'vgi_x', md5(random()::text))",
                  2, p) != 0) {
        return -1;
    }
    for (int i = 0; i < rx->nhooks; i++) {
        char id[37], url[64], aad[80];
        vg_uuid_v4(id);
        snprintf(rx->secrets[i], sizeof rx->secrets[i], "bench-secret-%d", i);
        snprintf(url, sizeof url, "http://127.0.0.1:%d/hook/%d", rx->port, i);
        snprintf(aad, sizeof aad, "%s/%s", tenant, id);
        char *sealed = vg_secret_seal(mk, rx->secrets[i], strlen(rx->secrets[i]), aad);
        const char *q[] = {id, tenant, url, sealed};
        int rc = vg_db_cmd(db,
                           "INSERT INTO webhooks (id, tenant_id, url, secret) "
                           "VALUES ($1, $2, $3, $4)",
                           4, q);
        free(sealed);
        if (rc != 0) {
            return -1;
        }
    }
    return 0;
}

static int produce(int n, const char *tenant, const char *cluster)
{
    char err[256];
    vg_producer *p = vg_producer_new(BROKERS, "bench-report", err, sizeof err);
    if (p == NULL) {
        fprintf(stderr, "producer: %s\n", err);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        char fp_src[128], fp[65];
        snprintf(fp_src, sizeof fp_src, "%s|%s|BENCH-%d", tenant, cluster, i);
        vg_sha256_hex(fp_src, strlen(fp_src), fp);
        json_t *data = json_pack(
            "{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s,s:s,s:s},s:s,s:{},s:s,s:{}}", "fingerprint",
            fp, "source", "posture", "scope", "posture", "rule_id", "VGL-BENCH-001", "title",
            "Benchmark finding", "severity", "medium", "category", "bench", "object", "kind",
            "Deployment", "namespace", "bench", "name", "app", "uid", fp, "field", "spec",
            "evidence", "remediation", "none", "refs");
        char *msg = vg_envelope_build("finding.observed", tenant, cluster, data);
        if (vg_producer_send(p, vg_topic(VG_TOPIC_FINDINGS), cluster, msg, strlen(msg), NULL,
                             NULL) != 0) {
            vg_producer_poll(p, 100);
            i--; /* queue full: retry this one */
        }
        free(msg);
    }
    int rc = vg_producer_flush(p, 60000);
    vg_producer_destroy(p);
    return rc;
}

/* Starts bin/vigil-report with the benchmark's environment; returns its pid. */
static pid_t report_start(const char *db_url, const char *prefix, const char *key,
                          const char *poll_ms, int port)
{
    pid_t pid = fork();
    if (pid == 0) {
        char addr[32];
        snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
        setenv("VIGIL_DATABASE_URL", db_url, 1);
        setenv("VIGIL_KAFKA_BROKERS", BROKERS, 1);
        setenv("VIGIL_TOPIC_PREFIX", prefix, 1);
        setenv("VIGIL_MASTER_KEY", key, 1);
        setenv("VIGIL_ALLOW_PRIVATE_TARGETS", "1", 1);
        setenv("VIGIL_REPORT_ADDR", addr, 1);
        setenv("VIGIL_OUTBOX_POLL_MS", poll_ms, 1);
        setenv("VIGIL_LOG_LEVEL", "warn", 1);
        setenv("VIGIL_SQL_DIR", "sql", 1);
        execl("bin/vigil-report", "vigil-report", (char *)NULL);
        _exit(127);
    }
    return pid;
}

static void report_stop(pid_t pid)
{
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

/* Waits until sql counts at least want rows; returns the seconds it took from t0, or -1. */
static double wait_count(vg_db *db, const char *sql, long want, double t0, double timeout)
{
    for (;;) {
        long n = count_rows(db, sql);
        if (n >= want) {
            return now_s() - t0;
        }
        if (now_s() - t0 > timeout) {
            fprintf(stderr, "timed out: %ld of %ld (%s)\n", n, want, sql);
            return -1;
        }
        usleep(20000);
    }
}

static double wait_receiver(receiver *rx, long want, double t0, double timeout)
{
    while (atomic_load(&rx->ok) < want) {
        if (now_s() - t0 > timeout) {
            fprintf(stderr, "timed out: %ld of %ld deliveries\n", atomic_load(&rx->ok), want);
            return -1;
        }
        usleep(5000);
    }
    return now_s() - t0;
}

/* Both phases are timed from the service's exec, so its start-up (migrations check, consumer
 * group join, a second or two) is included in the figures: they are a floor, not a peak. */
static int run(int n, int hooks)
{
    char db_name[64], prefix[32], err[512];
    snprintf(db_name, sizeof db_name, "bench_report_%d", (int)getpid());
    snprintf(prefix, sizeof prefix, "b%d.", (int)getpid());
    vg_topic_prefix_set(prefix);
    char *admin_url = vg_asprintf(PG "postgres");
    char *db_url = vg_asprintf(PG "%s", db_name);
    vg_db *admin = vg_db_new(admin_url, NULL);
    char *create = vg_asprintf("CREATE DATABASE %s", db_name);
    char *drop = vg_asprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", db_name);
    int rc = 1;
    if (vg_db_cmd(admin, create, 0, NULL) != 0) {
        fprintf(stderr, "cannot create the database: %s\n", vg_db_error(admin));
        goto out;
    }
    unsigned char raw[32];
    vg_random_bytes(raw, sizeof raw);
    char *key_b64 = vg_base64_encode(raw, sizeof raw);
    vg_master_key mk;
    receiver rx = {.nhooks = hooks};
    pthread_t thread;
    vg_db *db = vg_db_new(db_url, NULL);
    char tenant[37], cluster[37];
    static const char *const topics[] = {VG_TOPIC_FINDINGS, VG_TOPIC_SCANS, VG_TOPIC_COMMANDS,
                                         VG_TOPIC_DLQ};
    if (vg_master_key_load(&mk, key_b64, false, err, sizeof err) != 0 ||
        receiver_start(&rx, &thread) != 0 || vg_migrate_run(db, "sql", err, sizeof err) < 0 ||
        seed(db, &mk, &rx, tenant, cluster) != 0 ||
        vg_kafka_ensure_topics(BROKERS, topics, 4, 3, err, sizeof err) != 0 ||
        produce(n, tenant, cluster) != 0) {
        fprintf(stderr, "setup failed: %s %s\n", err, vg_db_error(db));
        free(key_b64);
        vg_db_destroy(db);
        goto out;
    }
    long want = (long)n * hooks;
    int port = 20000 + (int)(getpid() % 20000);
    double t0 = now_s();
    pid_t pid = report_start(db_url, prefix, key_b64, "60000", port);
    double t_outbox = wait_count(db, "SELECT count(*) FROM report_outbox", want, t0, 300);
    report_stop(pid);
    double t1 = now_s();
    pid = report_start(db_url, prefix, key_b64, "200", port + 1);
    double t_deliver = wait_receiver(&rx, want, t1, 600);
    report_stop(pid);
    printf("findings %d, webhooks %d, outbox rows %ld\n", n, hooks, want);
    printf("phase 1, Kafka -> findings + outbox (incl. start-up and group join): %.2f s = "
           "%.0f findings/s, %.0f outbox rows/s\n",
           t_outbox, n / t_outbox, want / t_outbox);
    printf("phase 2, outbox -> signed webhooks (incl. start-up): %.2f s = %.0f deliveries/s, "
           "%ld signatures verified, %ld bad\n",
           t_deliver, want / t_deliver, atomic_load(&rx.ok), atomic_load(&rx.bad));
    rc = (t_outbox > 0 && t_deliver > 0 && atomic_load(&rx.bad) == 0) ? 0 : 1;
    event_base_loopbreak(rx.base);
    pthread_join(thread, NULL);
    evhttp_free(rx.http);
    event_base_free(rx.base);
    free(key_b64);
    vg_db_destroy(db);
out:
    if (vg_db_cmd(admin, drop, 0, NULL) != 0) {
        fprintf(stderr, "cannot drop %s: %s\n", db_name, vg_db_error(admin));
    }
    vg_db_destroy(admin);
    free(create);
    free(drop);
    free(admin_url);
    free(db_url);
    return rc;
}

int main(int argc, char **argv)
{
    vg_log_init("bench_report", VG_LOG_WARN);
    evthread_use_pthreads(); /* the receiver's loop is stopped from the main thread */
    int n = argc > 1 ? atoi(argv[1]) : 2000;
    int hooks = argc > 2 ? atoi(argv[2]) : 4;
    if (n <= 0 || hooks <= 0 || hooks > MAX_HOOKS) {
        fprintf(stderr, "usage: bench_report_delivery [findings] [webhooks (1-%d)]\n", MAX_HOOKS);
        return 2;
    }
    return run(n, hooks);
}
