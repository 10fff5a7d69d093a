/* Benchmark of the API inventory's hot path on one core, in-process: Istio access-log
 * records through parse + attribution + templating + schema learning + aggregation
 * (services/inventory/api: record.c, template.c, learn.c, detect.c).
 *
 *   bin/bench_inventory_api [-n RECORDS] [-r ROUNDS] [-b BATCH]
 *
 * The records are generated up front (realistic Istio default JSON access logs: internal
 * calls to three services with ids, UUIDs, emails and slugs in paths, query strings,
 * external calls with X-Forwarded-For, opaque TLS and plaintext calls to third parties).
 * "handler" is what the consumer does per record once the envelope is parsed (json_t records,
 * as vg_consumer hands them over, parsed just before, so in cache); the JSON parse of each
 * batch is timed apart and reported too. A second pass runs over records parsed long before
 * (cold cache). The path trees persist across batches like the database rows; the aggregates
 * are reset every BATCH records like one trace.batch. */
#include <jansson.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../services/inventory/api/learn.h"
#include "../services/inventory/api/record.h"

static uint64_t rng = 0x2545F4914F6CDD1DULL;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static const char *const slugs[] = {"blue-running-shoes", "quiet-desk-lamp",  "green-tea-set",
                                    "wool-winter-coat",   "oak-coffee-table", "city-bike-helmet",
                                    "steel-water-bottle", "linen-bed-sheets"};

/* Writes one record's JSON text into out. */
static void gen_record(char *out, size_t cap)
{
    char path[256];
    const char *authority = "shop:8080", *cluster = "outbound|8080||shop.shop.svc.cluster.local";
    const char *method = "GET", *xff = "null", *sni = "null";
    uint64_t r = rnd();
    unsigned kind = (unsigned)(r % 100);
    int status = r % 50 == 0 ? 503 : (r % 17 == 0 ? 404 : 200);
    if (kind < 30) {
        snprintf(path, sizeof path, "/api/v1/orders/%08x-%04x-4%03x-a%03x-%012llx?expand=items",
                 (unsigned)rnd(), (unsigned)(r >> 16) & 0xffff, (unsigned)(r >> 32) & 0xfff,
                 (unsigned)(r >> 44) & 0xfff, (unsigned long long)(rnd() & 0xffffffffffffULL));
    } else if (kind < 45) {
        snprintf(path, sizeof path, "/api/v1/products/%s/reviews?page=%u", slugs[r % 8],
                 (unsigned)(r >> 8) % 20);
    } else if (kind < 55) {
        snprintf(path, sizeof path, "/api/v1/users/%u/addresses/%u", (unsigned)(r >> 8) % 100000,
                 (unsigned)(r >> 30) % 50);
        method = r & 1 ? "GET" : "DELETE";
    } else if (kind < 70) {
        authority = "bank.payments.svc.cluster.local";
        cluster = "outbound|443||bank.payments.svc.cluster.local";
        snprintf(path, sizeof path,
                 "/v2/accounts/%08x-%04x-4%03x-b%03x-%012llx/transactions"
                 "?from=2024-0%u-01&limit=50",
                 (unsigned)rnd(), (unsigned)(r >> 16) & 0xffff, (unsigned)(r >> 32) & 0xfff,
                 (unsigned)(r >> 44) & 0xfff, (unsigned long long)(rnd() & 0xffffffffffffULL),
                 1 + (unsigned)(r >> 8) % 9);
    } else if (kind < 85) {
        authority = "admin.saas.svc.cluster.local:8443";
        cluster = "outbound|8443||admin.saas.svc.cluster.local";
        snprintf(path, sizeof path, "/admin/v1/orgs/acme/members/user%u%%40example.com",
                 (unsigned)(r >> 8) % 5000);
        method = r & 1 ? "GET" : "POST";
        xff = "\"81.2.69.142, 10.0.0.5\"";
    } else if (kind < 95) {
        snprintf(out, cap,
                 "{\"start_time\":\"2024-05-01T10:00:00.123Z\",\"method\":null,\"path\":null,"
                 "\"protocol\":null,\"response_code\":0,\"response_flags\":\"-\","
                 "\"bytes_received\":812,\"bytes_sent\":4411,\"duration\":%u,"
                 "\"upstream_service_time\":null,\"x_forwarded_for\":null,\"user_agent\":null,"
                 "\"request_id\":null,\"authority\":null,\"upstream_host\":\"54.187.174.169:443\","
                 "\"upstream_cluster\":\"PassthroughCluster\","
                 "\"downstream_remote_address\":\"10.244.1.%u:4%04u\","
                 "\"requested_server_name\":\"%s\"}",
                 (unsigned)(r >> 8) % 400, (unsigned)(r >> 20) % 250, (unsigned)(r >> 28) % 9999,
                 r & 1 ? "api.stripe.com" : "hooks.slack.com");
        return;
    } else {
        authority = "rates.example.org";
        cluster = "PassthroughCluster";
        snprintf(path, sizeof path, "/v1/latest?base=EUR");
    }
    (void)sni;
    snprintf(out, cap,
             "{\"start_time\":\"2024-05-01T10:00:%02u.%03uZ\",\"method\":\"%s\",\"path\":\"%s\","
             "\"protocol\":\"HTTP/1.1\",\"response_code\":%d,\"response_flags\":\"-\","
             "\"response_code_details\":\"via_upstream\",\"connection_termination_details\":null,"
             "\"upstream_transport_failure_reason\":null,\"bytes_received\":0,"
             "\"bytes_sent\":%u,\"duration\":%u,\"upstream_service_time\":\"%u\","
             "\"x_forwarded_for\":%s,\"user_agent\":\"Go-http-client/1.1\","
             "\"request_id\":\"%08x-1c2d-4e5f-8a9b-%012llx\",\"authority\":\"%s\","
             "\"upstream_host\":\"10.244.2.%u:8080\",\"upstream_cluster\":\"%s\","
             "\"upstream_local_address\":\"10.244.1.7:51234\","
             "\"downstream_local_address\":\"10.96.0.15:8080\","
             "\"downstream_remote_address\":\"10.244.1.%u:5%04u\","
             "\"requested_server_name\":null,\"route_name\":\"default\"}",
             (unsigned)(r >> 4) % 60, (unsigned)(r >> 10) % 1000, method, path, status,
             (unsigned)(r >> 12) % 9000, (unsigned)(r >> 24) % 300, (unsigned)(r >> 24) % 290, xff,
             (unsigned)rnd(), (unsigned long long)(rnd() & 0xffffffffffffULL), authority,
             (unsigned)(r >> 36) % 250, cluster, (unsigned)(r >> 40) % 250,
             (unsigned)(r >> 48) % 9999);
}

/* CPU time of this thread: the machine may be shared, and the question is what one core
 * does. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct run_stats {
    size_t records, rejected, endpoints;
    double handler_s, parse_s;
} run_stats;

/* Handles items[0..n) as batches of batch_size records. With texts, each batch is first
 * parsed from its text (timed apart: in the service vg_consumer parses the envelope before
 * the handler runs, so the handler meets records that were just parsed and are in cache). */
static run_stats run(json_t **items, char **texts, size_t n, int rounds, size_t batch_size,
                     api_batch *b)
{
    run_stats st = {0};
    json_t **fresh = calloc(batch_size, sizeof *fresh);
    for (int round = 0; round < rounds; round++) {
        for (size_t first = 0; first < n; first += batch_size) {
            size_t count = n - first < batch_size ? n - first : batch_size;
            json_t **batch = items + first;
            if (texts != NULL) {
                double p0 = now_s();
                for (size_t i = 0; i < count; i++) {
                    json_t *rec = json_loads(texts[first + i], 0, NULL);
                    fresh[i] = json_pack("{s:s,s:o}", "format", "envoy", "record", rec);
                }
                st.parse_s += now_s() - p0;
                batch = fresh;
            }
            double t0 = now_s();
            for (size_t i = 0; i < count; i++) {
                api_record rec;
                char err[128];
                if (api_record_parse(batch[i], &rec, err, sizeof err) != 0) {
                    st.rejected++;
                } else {
                    api_batch_add(b, &rec, rec.start_time);
                }
            }
            st.endpoints += api_batch_endpoints(b);
            api_batch_reset(b);
            st.handler_s += now_s() - t0;
            st.records += count;
            for (size_t i = 0; texts != NULL && i < count; i++) {
                json_decref(fresh[i]);
            }
        }
    }
    free(fresh);
    return st;
}

static void report(const char *what, const run_stats *st, size_t batch_size)
{
    printf("%s: %zu records, handler %.3f s = %.0f records/s (%.2f us/record)", what, st->records,
           st->handler_s, (double)st->records / st->handler_s,
           st->handler_s * 1e6 / (double)st->records);
    if (st->parse_s > 0) {
        printf(", JSON parse %.3f s, parse + handler = %.0f records/s", st->parse_s,
               (double)st->records / (st->parse_s + st->handler_s));
    }
    printf(", rejected %zu, endpoints per batch %.1f\n", st->rejected,
           (double)st->endpoints / ((double)st->records / (double)batch_size));
}

int main(int argc, char **argv)
{
    size_t n = 200000, batch_size = 500;
    int rounds = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "-n") == 0) {
            n = (size_t)atol(argv[i + 1]);
        } else if (strcmp(argv[i], "-r") == 0) {
            rounds = atoi(argv[i + 1]);
        } else if (strcmp(argv[i], "-b") == 0) {
            batch_size = (size_t)atol(argv[i + 1]);
        }
    }
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    sched_setaffinity(0, sizeof set, &set);
    char **texts = calloc(n, sizeof *texts);
    json_t **items = calloc(n, sizeof *items);
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        char buf[2048];
        gen_record(buf, sizeof buf);
        texts[i] = strdup(buf);
        bytes += strlen(buf);
        json_error_t jerr;
        json_t *rec = json_loads(buf, 0, &jerr);
        if (rec == NULL) {
            fprintf(stderr, "generated record invalid: %s\n%s\n", jerr.text, buf);
            return 1;
        }
        items[i] = json_pack("{s:s,s:o}", "format", "envoy", "record", rec);
    }
    api_batch *b = api_batch_new();
    run(items, NULL, n < 20000 ? n : 20000, 1, batch_size, b); /* warm-up: trees learn */
    printf("records generated: %zu (%.0f bytes average), batch %zu records, 1 core, CPU time\n", n,
           (double)bytes / (double)n, batch_size);
    if (getenv("BENCH_COLD_ONLY") == NULL) { /* set it to profile the handler alone */
        run_stats fresh = run(items, texts, n, rounds, batch_size, b);
        report("freshly parsed batches (as in the consumer)", &fresh, batch_size);
    }
    run_stats cold = run(items, NULL, n, rounds, batch_size, b);
    report("records parsed long before (cold cache)", &cold, batch_size);
    const char *svc;
    api_tree *tree;
    for (size_t i = 0; api_batch_tree_at(b, i, &svc, &tree); i++) {
        printf("tree %-34s %6zu nodes\n", svc, api_tree_nodes(tree));
    }
    api_batch_destroy(b);
    for (size_t i = 0; i < n; i++) {
        free(texts[i]);
        json_decref(items[i]);
    }
    free(texts);
    free(items);
    return 0;
}
