/* End-to-end benchmark of the API inventory: trace.batch messages produced to the real
 * Kafka broker, consumed by a real bin/vigil-inventory, applied to PostgreSQL.
 *
 *   bin/bench_inventory_api_e2e [-m MESSAGES] [-r RECORDS_PER_MESSAGE]
 *
 * Needs the dev stack (deploy/dev/stack.sh up: PostgreSQL 127.0.0.1:55432, Kafka
 * 127.0.0.1:9092) and bin/vigil-inventory. Creates a fresh database and topic prefix,
 * starts the service, produces every message up front (the records are Istio access logs
 * to three services plus third-party calls), and measures the time from the first send
 * until every batch is recorded as applied (api_processed_batches). Drops the database. */
#include <jansson.h>
#include <libpq-fe.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vigil/envelope.h"
#include "vigil/kafka.h"
#include "vigil/util.h"

extern char **environ;

#define ADMIN_URL "postgresql://postgres@127.0.0.1:55432/postgres"
#define BROKERS "127.0.0.1:9092"

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static PGresult *sql(PGconn *conn, const char *q, int n, const char *const *p)
{
    PGresult *res = PQexecParams(conn, q, n, NULL, p, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        fprintf(stderr, "sql failed: %s\n", PQerrorMessage(conn));
        PQclear(res);
        return NULL;
    }
    return res;
}

static json_t *record(unsigned i)
{
    char path[160], host[64], cluster[128];
    unsigned k = i % 10;
    if (k < 4) {
        snprintf(path, sizeof path, "/api/v1/orders/%u/items?page=%u", 1000 + i % 5000, i % 7);
        snprintf(host, sizeof host, "shop:8080");
        snprintf(cluster, sizeof cluster, "outbound|8080||shop.shop.svc.cluster.local");
    } else if (k < 7) {
        snprintf(path, sizeof path, "/v2/accounts/%08x-1c2d-4e5f-8a9b-%012x/balance",
                 i * 2654435761u, i);
        snprintf(host, sizeof host, "bank.payments.svc.cluster.local");
        snprintf(cluster, sizeof cluster, "outbound|443||bank.payments.svc.cluster.local");
    } else if (k < 9) {
        snprintf(path, sizeof path, "/admin/v1/users/%u/sessions", i % 900);
        snprintf(host, sizeof host, "admin.saas:8443");
        snprintf(cluster, sizeof cluster, "outbound|8443||admin.saas.svc.cluster.local");
    } else {
        return json_pack("{s:s,s:{s:n,s:n,s:i,s:i,s:s,s:s,s:s,s:s}}", "format", "envoy", "record",
                         "method", "path", "response_code", 0, "duration", 80, "upstream_cluster",
                         "PassthroughCluster", "requested_server_name", "api.stripe.com",
                         "upstream_host", "54.187.174.169:443", "downstream_remote_address",
                         "10.244.1.9:40000");
    }
    char src[32];
    snprintf(src, sizeof src, "10.244.1.%u:5%04u", i % 200, i % 9999);
    return json_pack("{s:s,s:{s:s,s:s,s:s,s:i,s:i,s:s,s:s,s:s,s:s,s:s}}", "format", "envoy",
                     "record", "start_time", "2024-05-01T10:00:00.000Z", "method", "GET", "path",
                     path, "response_code", i % 41 == 0 ? 503 : 200, "duration", (int)(i % 120),
                     "authority", host, "upstream_cluster", cluster, "upstream_host",
                     "10.244.2.20:8080", "downstream_remote_address", src, "protocol", "HTTP/1.1");
}

static pid_t start_service(const char *dburl, const char *prefix)
{
    setenv("VIGIL_DATABASE_URL", dburl, 1);
    setenv("VIGIL_KAFKA_BROKERS", BROKERS, 1);
    setenv("VIGIL_TOPIC_PREFIX", prefix, 1);
    setenv("VIGIL_INVENTORY_ADDR", "127.0.0.1:0", 1);
    setenv("VIGIL_DEV_MODE", "1", 1);
    setenv("VIGIL_LOG_LEVEL", getenv("BENCH_LOG_LEVEL") ? getenv("BENCH_LOG_LEVEL") : "warn", 1);
    setenv("VIGIL_SQL_DIR", "sql", 1);
    char *argv[] = {"bin/vigil-inventory", NULL};
    pid_t pid = 0;
    if (posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) != 0) {
        return -1;
    }
    return pid;
}

/* Waits until the migrations ran, then adds a tenant and a cluster. */
static int setup_tenant(PGconn *conn, char *tenant, char *cluster)
{
    for (int i = 0; i < 600; i++) {
        PGresult *res =
            sql(conn, "SELECT to_regclass('api_processed_batches') IS NOT NULL", 0, NULL);
        bool ready = res != NULL && PQgetvalue(res, 0, 0)[0] == 't';
        PQclear(res);
        if (ready) {
            break;
        }
        usleep(100000);
    }
    PGresult *res = sql(conn, "INSERT INTO tenants (name) VALUES ('bench') RETURNING id", 0, NULL);
    if (res == NULL) {
        return -1;
    }
    snprintf(tenant, 37, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    const char *p[1] = {tenant};
    res = sql(conn,
              "INSERT INTO clusters (tenant_id, name, server, ca_cert, credential, key_id, "
              "ingest_token_prefix, ingest_token_hash) VALUES ($1, 'bench', 'https://x', 'x', "
              "'x', 'x', 'vgi_x', md5(random()::text)) RETURNING id",
              1, p);
    if (res == NULL) {
        return -1;
    }
    snprintf(cluster, 37, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

static char **build_messages(const char *tenant, const char *cluster, int m, int r, size_t *bytes)
{
    char **msgs = calloc((size_t)m, sizeof *msgs);
    unsigned seq = 0;
    for (int i = 0; i < m; i++) {
        json_t *records = json_array();
        for (int j = 0; j < r; j++) {
            json_array_append_new(records, record(seq++));
        }
        json_t *data =
            json_pack("{s:s,s:o}", "received_at", "2024-05-01T10:00:01.000Z", "records", records);
        msgs[i] = vg_envelope_build("trace.batch", tenant, cluster, data);
        *bytes += strlen(msgs[i]);
    }
    return msgs;
}

static long applied(PGconn *conn)
{
    PGresult *res = sql(conn, "SELECT count(*) FROM api_processed_batches", 0, NULL);
    long n = res != NULL ? atol(PQgetvalue(res, 0, 0)) : -1;
    PQclear(res);
    return n;
}

static void report(PGconn *conn, int m, int r, size_t bytes, double t0, double t1)
{
    PGresult *res = sql(conn,
                        "SELECT (SELECT count(*) FROM api_endpoints), (SELECT sum(request_count) "
                        "FROM api_endpoints), (SELECT sum(calls) FROM api_edges)",
                        0, NULL);
    printf("messages %d x %d records (%.0f KiB per message), 3 partitions, 1 consumer\n", m, r,
           (double)bytes / m / 1024.0);
    printf("end to end (produce -> Kafka -> vigil-inventory -> PostgreSQL): %.2f s = %.0f "
           "records/s, %.1f batches/s\n",
           t1 - t0, (double)m * r / (t1 - t0), m / (t1 - t0));
    if (res != NULL) {
        printf("endpoints %s, requests counted %s, edge calls %s (expected %d)\n",
               PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2), m * r);
    }
    PQclear(res);
}

static int produce_all(const char *prefix, char **msgs, int m, const char *cluster)
{
    char err[256];
    vg_producer *p = vg_producer_new(BROKERS, "bench-inventory-api", err, sizeof err);
    if (p == NULL) {
        fprintf(stderr, "producer: %s\n", err);
        return -1;
    }
    (void)prefix;
    for (int i = 0; i < m; i++) {
        while (vg_producer_send(p, vg_topic(VG_TOPIC_TRACES), cluster, msgs[i], strlen(msgs[i]),
                                NULL, NULL) != 0) {
            vg_producer_poll(p, 50);
        }
        vg_producer_poll(p, 0);
    }
    int rc = vg_producer_flush(p, 60000);
    vg_producer_destroy(p);
    return rc;
}

int main(int argc, char **argv)
{
    int m = 200, r = 500;
    for (int i = 1; i + 1 < argc; i += 2) {
        m = strcmp(argv[i], "-m") == 0 ? atoi(argv[i + 1]) : m;
        r = strcmp(argv[i], "-r") == 0 ? atoi(argv[i + 1]) : r;
    }
    char tag[9], dbname[32], dburl[128], prefix[32], tenant[40], cluster[40], err[256];
    unsigned char rnd[4];
    vg_random_bytes(rnd, sizeof rnd);
    snprintf(tag, sizeof tag, "%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3]);
    snprintf(dbname, sizeof dbname, "bench_api_%s", tag);
    snprintf(dburl, sizeof dburl, "postgresql://postgres@127.0.0.1:55432/%s", dbname);
    snprintf(prefix, sizeof prefix, "bench%s.", tag);
    PGconn *admin = PQconnectdb(ADMIN_URL);
    const char *create = "SELECT 1";
    char q[96];
    snprintf(q, sizeof q, "CREATE DATABASE %s", dbname); /* generated name, not input */
    create = q;
    if (PQstatus(admin) != CONNECTION_OK || sql(admin, create, 0, NULL) == NULL) {
        fprintf(stderr, "cannot create the database (is deploy/dev/stack.sh up?)\n");
        return 1;
    }
    vg_topic_prefix_set(prefix);
    static const char *const topics[] = {VG_TOPIC_TRACES, VG_TOPIC_API_EVENTS, VG_TOPIC_FINDINGS,
                                         VG_TOPIC_INVENTORY, VG_TOPIC_DLQ};
    int rc = 1;
    pid_t pid = -1;
    PGconn *conn = NULL;
    if (vg_kafka_ensure_topics(BROKERS, topics, 5, 3, err, sizeof err) != 0) {
        fprintf(stderr, "topics: %s\n", err);
        goto out;
    }
    pid = start_service(dburl, prefix);
    conn = PQconnectdb(dburl);
    if (pid < 0 || PQstatus(conn) != CONNECTION_OK || setup_tenant(conn, tenant, cluster) != 0) {
        fprintf(stderr, "service or database not ready\n");
        goto out;
    }
    size_t bytes = 0;
    char **msgs = build_messages(tenant, cluster, m, r, &bytes);
    double t0 = wall();
    if (produce_all(prefix, msgs, m, cluster) != 0) {
        fprintf(stderr, "produce failed\n");
        goto out;
    }
    double tp = wall(), tfirst = 0;
    long done = 0;
    while ((done = applied(conn)) < m && wall() - t0 < 600) {
        if (done > 0 && tfirst == 0) {
            tfirst = wall();
        }
        usleep(20000);
    }
    double t1 = wall();
    printf("produced in %.2f s; first batch applied after %.2f s; steady state %.0f records/s\n",
           tp - t0, tfirst - t0, tfirst > 0 ? (double)(m - 1) * r / (t1 - tfirst) : 0.0);
    report(conn, m, r, bytes, t0, t1);
    for (int i = 0; i < m; i++) {
        free(msgs[i]);
    }
    free(msgs);
    rc = applied(conn) == m ? 0 : 1;
out:
    PQfinish(conn);
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
    snprintf(q, sizeof q, "DROP DATABASE IF EXISTS %s WITH (FORCE)", dbname);
    PQclear(sql(admin, q, 0, NULL));
    PQfinish(admin);
    return rc;
}
