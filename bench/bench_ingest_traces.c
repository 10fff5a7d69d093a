/* bench_ingest_traces: load generator for POST /v1/traces of a running vigil-ingest.
 * Each connection (one thread each, HTTP/1.1 keep-alive) posts JSON arrays of `records`
 * Istio access-log records again and again for `seconds`; a record counts when its request was
 * answered 202 (i.e. acknowledged by Kafka). Prints one JSON line:
 *   {"records_per_s":…, "requests":…, "records":…, "non_202":…, "seconds":…, "p50_ms":…,
 *    "p99_ms":…, "conns":…, "batch":…}
 * Usage: bench_ingest_traces HOST:PORT TOKEN [conns=4] [seconds=10] [records=500] */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vigil/alloc.h"
#include "vigil/util.h"

#define MAX_SAMPLES 200000

typedef struct bench {
    struct sockaddr_in addr;
    char *request; /* the whole HTTP request, sent as is */
    size_t request_len;
    int records;
    int64_t deadline_ms;
    atomic_long requests;
    atomic_long ok;
    atomic_long non202;
    pthread_mutex_t mtx;
    double *lat_ms;
    size_t nlat;
} bench;

static const char RECORD_FMT[] =
    "{\"authority\":\"cart.shop.svc.cluster.local:80\",\"bytes_received\":312,\"bytes_sent\":48,"
    "\"connection_termination_details\":null,\"downstream_local_address\":\"10.244.1.10:8080\","
    "\"downstream_remote_address\":\"10.244.2.14:39906\",\"duration\":14,\"method\":\"POST\","
    "\"path\":\"/api/v1/carts/%d/items\",\"protocol\":\"HTTP/1.1\","
    "\"request_id\":\"0b7e9a52-1c1f-4d49-a8a4-%012d\",\"requested_server_name\":null,"
    "\"response_code\":201,\"response_code_details\":\"via_upstream\",\"response_flags\":\"-\","
    "\"route_name\":\"default\",\"start_time\":\"2026-11-20T10:00:01.456Z\","
    "\"upstream_cluster\":\"outbound|80||cart.shop.svc.cluster.local\","
    "\"upstream_host\":\"10.244.1.10:8080\",\"upstream_local_address\":\"127.0.0.6:41231\","
    "\"upstream_service_time\":\"13\",\"upstream_transport_failure_reason\":null,"
    "\"user_agent\":\"cart-client/2.3\",\"x_forwarded_for\":null}";

/* The JSON array body; also written to stdout-free file use by the kcat comparison. */
static char *make_body(int records, size_t *len)
{
    vg_buf b = {0};
    vg_buf_puts(&b, "[");
    for (int i = 0; i < records; i++) {
        if (i > 0) {
            vg_buf_puts(&b, ",");
        }
        vg_buf_printf(&b, RECORD_FMT, 1000 + i, i);
    }
    vg_buf_puts(&b, "]");
    *len = b.len;
    return vg_buf_steal(&b);
}

static int connect_to(const bench *bn)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (const struct sockaddr *)&bn->addr, sizeof bn->addr) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) {
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads one response; returns its status or -1. */
static int read_response(int fd, vg_buf *in)
{
    vg_buf_reset(in);
    char chunk[16384];
    for (;;) {
        char *end = in->data ? strstr(in->data, "\r\n\r\n") : NULL;
        if (end != NULL) {
            const char *cl = strcasestr(in->data, "\r\ncontent-length:");
            size_t body = cl ? (size_t)strtoul(cl + 17, NULL, 10) : 0;
            size_t need = (size_t)(end - in->data) + 4 + body;
            if (in->len >= need) {
                return atoi(in->data + 9);
            }
        }
        ssize_t r = recv(fd, chunk, sizeof chunk, 0);
        if (r <= 0) {
            return -1;
        }
        vg_buf_append(in, chunk, (size_t)r);
    }
}

static void record_latency(bench *bn, double ms)
{
    pthread_mutex_lock(&bn->mtx);
    if (bn->nlat < MAX_SAMPLES) {
        bn->lat_ms[bn->nlat++] = ms;
    }
    pthread_mutex_unlock(&bn->mtx);
}

static void *conn_main(void *arg)
{
    bench *bn = arg;
    vg_buf in = {0};
    int fd = connect_to(bn);
    while (fd >= 0 && vg_now_ms() < bn->deadline_ms) {
        int64_t t0 = vg_now_ms();
        int status = -1;
        if (send_all(fd, bn->request, bn->request_len) == 0) {
            status = read_response(fd, &in);
        }
        if (status < 0) {
            close(fd);
            fd = connect_to(bn);
            continue;
        }
        atomic_fetch_add(&bn->requests, 1);
        if (status == 202) {
            atomic_fetch_add(&bn->ok, 1);
            record_latency(bn, (double)(vg_now_ms() - t0));
        } else {
            atomic_fetch_add(&bn->non202, 1);
        }
    }
    if (fd >= 0) {
        close(fd);
    }
    vg_buf_free(&in);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int setup(bench *bn, const char *hostport, const char *token, int records)
{
    char *host = NULL;
    int port = 0;
    if (!vg_split_hostport(hostport, &host, &port)) {
        return -1;
    }
    bn->addr.sin_family = AF_INET;
    bn->addr.sin_port = htons((uint16_t)port);
    int ok = inet_pton(AF_INET, host, &bn->addr.sin_addr);
    free(host);
    if (ok != 1) {
        return -1;
    }
    size_t blen = 0;
    char *body = make_body(records, &blen);
    vg_buf req = {0};
    vg_buf_printf(&req,
                  "POST /v1/traces HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
                  "Content-Type: application/json\r\nContent-Length: %zu\r\n"
                  "Connection: keep-alive\r\n\r\n",
                  hostport, token, blen);
    vg_buf_append(&req, body, blen);
    free(body);
    bn->request_len = req.len;
    bn->request = vg_buf_steal(&req);
    bn->records = records;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "--body") == 0) { /* the body, for the kcat comparison */
        size_t len = 0;
        char *body = make_body(argc > 2 ? atoi(argv[2]) : 500, &len);
        fwrite(body, 1, len, stdout);
        free(body);
        return 0;
    }
    if (argc < 3) {
        fprintf(stderr,
                "usage: %s HOST:PORT TOKEN [conns] [seconds] [records]\n"
                "       %s --body [records]\n",
                argv[0], argv[0]);
        return 2;
    }
    int conns = argc > 3 ? atoi(argv[3]) : 4, seconds = argc > 4 ? atoi(argv[4]) : 10;
    int records = argc > 5 ? atoi(argv[5]) : 500;
    static bench bn;
    if (conns < 1 || conns > 256 || seconds < 1 || records < 1 ||
        setup(&bn, argv[1], argv[2], records) != 0) {
        fprintf(stderr, "bad arguments\n");
        return 2;
    }
    pthread_mutex_init(&bn.mtx, NULL);
    bn.lat_ms = vg_calloc(MAX_SAMPLES, sizeof *bn.lat_ms);
    int64_t start = vg_now_ms();
    bn.deadline_ms = start + (int64_t)seconds * 1000;
    pthread_t *threads = vg_calloc((size_t)conns, sizeof *threads);
    for (int i = 0; i < conns; i++) {
        pthread_create(&threads[i], NULL, conn_main, &bn);
    }
    for (int i = 0; i < conns; i++) {
        pthread_join(threads[i], NULL);
    }
    double elapsed = (double)(vg_now_ms() - start) / 1000.0;
    qsort(bn.lat_ms, bn.nlat, sizeof *bn.lat_ms, cmp_double);
    double p50 = bn.nlat ? bn.lat_ms[bn.nlat / 2] : 0,
           p99 = bn.nlat ? bn.lat_ms[bn.nlat * 99 / 100] : 0;
    long ok = atomic_load(&bn.ok);
    printf("{\"records_per_s\":%.0f,\"requests\":%ld,\"records\":%ld,\"non_202\":%ld,"
           "\"seconds\":%.2f,\"p50_ms\":%.1f,\"p99_ms\":%.1f,\"conns\":%d,\"batch\":%d}\n",
           (double)ok * records / elapsed, atomic_load(&bn.requests), ok * records,
           atomic_load(&bn.non202), elapsed, p50, p99, conns, records);
    free(threads);
    free(bn.lat_ms);
    free(bn.request);
    return ok > 0 ? 0 : 1;
}
