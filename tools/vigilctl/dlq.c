/* vigilctl dlq: list the dead letters in vigil.dlq and replay them to their original topic.
 * Reads every partition from its low to its high watermark without joining a group. */
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/alloc.h"
#include "vigil/kafka.h"
#include "vigil/util.h"
#include "vigilctl.h"

typedef void (*dlq_visit_fn)(int32_t partition, int64_t offset, json_t *data, void *arg);

static rd_kafka_t *reader_new(const char *brokers)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof err) != 0 ||
        rd_kafka_conf_set(conf, "group.id", "vigilctl", err, sizeof err) != 0 ||
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err) != 0) {
        fprintf(stderr, "vigilctl: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (rk == NULL) {
        fprintf(stderr, "vigilctl: %s\n", err);
    }
    return rk;
}

/* Assigns every partition of topic from its low watermark; returns the number of messages
 * to read (sum of high - low), or -1. */
static int64_t assign_all(rd_kafka_t *rk, const char *topic)
{
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
    rd_kafka_topic_destroy(rkt);
    if (err || md->topic_cnt != 1 || md->topics[0].err) {
        fprintf(stderr, "vigilctl: cannot read metadata of %s: %s\n", topic,
                rd_kafka_err2str(err ? err : (md ? md->topics[0].err : err)));
        if (md) {
            rd_kafka_metadata_destroy(md);
        }
        return -1;
    }
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    int64_t total = 0;
    for (int i = 0; i < md->topics[0].partition_cnt; i++) {
        int32_t p = md->topics[0].partitions[i].id;
        int64_t lo = 0, hi = 0;
        if (rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 10000) != 0 || hi <= lo) {
            continue;
        }
        rd_kafka_topic_partition_list_add(parts, topic, p)->offset = lo;
        total += hi - lo;
    }
    rd_kafka_metadata_destroy(md);
    if (parts->cnt > 0 && rd_kafka_assign(rk, parts) != 0) {
        total = -1;
    }
    rd_kafka_topic_partition_list_destroy(parts);
    return total;
}

static int dlq_walk(const char *brokers, int64_t max, dlq_visit_fn fn, void *arg)
{
    rd_kafka_t *rk = reader_new(brokers);
    if (rk == NULL) {
        return 1;
    }
    int64_t total = assign_all(rk, vg_topic(VG_TOPIC_DLQ));
    int rc = total < 0 ? 1 : 0;
    for (int64_t seen = 0; total > 0 && seen < total && (max <= 0 || seen < max);) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 5000);
        if (m == NULL) {
            fprintf(stderr, "vigilctl: timed out reading %s\n", vg_topic(VG_TOPIC_DLQ));
            rc = 1;
            break;
        }
        if (m->err == 0) {
            seen++;
            json_t *root = json_loadb(m->payload, m->len, 0, NULL);
            json_t *data = json_object_get(root, "data");
            if (json_is_object(data)) {
                fn(m->partition, m->offset, data, arg);
            } else {
                printf("%d:%lld  (unreadable dead letter)\n", (int)m->partition,
                       (long long)m->offset);
            }
            json_decref(root);
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return rc;
}

static void print_one(int32_t partition, int64_t offset, json_t *data, void *arg)
{
    (void)arg;
    printf("%d:%lld  %s  %s[%lld@%lld]  %s\n", (int)partition, (long long)offset,
           json_string_value(json_object_get(data, "failed_at")) ?: "-",
           json_string_value(json_object_get(data, "topic")) ?: "?",
           (long long)json_integer_value(json_object_get(data, "partition")),
           (long long)json_integer_value(json_object_get(data, "offset")),
           json_string_value(json_object_get(data, "reason")) ?: "");
}

typedef struct replay_ctx {
    vg_producer *producer;
    int32_t partition; /* -1 = all */
    int64_t offset;
    int sent;
    int failed;
} replay_ctx;

static void replay_one(int32_t partition, int64_t offset, json_t *data, void *arg)
{
    replay_ctx *ctx = arg;
    if (ctx->partition >= 0 && (partition != ctx->partition || offset != ctx->offset)) {
        return;
    }
    const char *topic = json_string_value(json_object_get(data, "topic"));
    const char *key = json_string_value(json_object_get(data, "key"));
    const char *text = json_string_value(json_object_get(data, "payload"));
    const char *b64 = json_string_value(json_object_get(data, "payload_base64"));
    size_t len = 0;
    unsigned char *raw = NULL;
    if (text) {
        len = strlen(text);
    } else if (b64) {
        raw = vg_base64_decode(b64, strlen(b64), &len);
    }
    char err[256] = "no topic or payload in the dead letter";
    if (topic && (text || raw) &&
        vg_producer_send_sync(ctx->producer, topic, key, text ? (const void *)text : raw, len,
                              10000, err, sizeof err) == 0) {
        printf("replayed %d:%lld to %s\n", (int)partition, (long long)offset, topic);
        ctx->sent++;
    } else {
        fprintf(stderr, "vigilctl: cannot replay %d:%lld: %s\n", (int)partition, (long long)offset,
                err);
        ctx->failed++;
    }
    free(raw);
}

static int dlq_replay(const char *brokers, const char *which)
{
    replay_ctx ctx = {.partition = -1};
    if (strcmp(which, "--all") != 0) {
        int p = -1;
        long long o = -1;
        if (sscanf(which, "%d:%lld", &p, &o) != 2 || p < 0 || o < 0) {
            fprintf(stderr, "vigilctl: expected <partition:offset> or --all\n");
            return 2;
        }
        ctx.partition = p;
        ctx.offset = o;
    }
    char err[256];
    ctx.producer = vg_producer_new(brokers, "vigilctl", err, sizeof err);
    if (ctx.producer == NULL) {
        fprintf(stderr, "vigilctl: %s\n", err);
        return 1;
    }
    int rc = dlq_walk(brokers, 0, replay_one, &ctx);
    vg_producer_destroy(ctx.producer);
    if (rc == 0 && ctx.sent == 0 && ctx.failed == 0) {
        fprintf(stderr, "vigilctl: no such dead letter\n");
        return 1;
    }
    return rc != 0 || ctx.failed > 0 ? 1 : 0;
}

int ctl_dlq(const char *brokers, int argc, char **argv)
{
    if (argc >= 1 && strcmp(argv[0], "list") == 0) {
        int64_t max = 0;
        if (argc == 3 && strcmp(argv[1], "--max") == 0) {
            max = strtoll(argv[2], NULL, 10);
        }
        return dlq_walk(brokers, max, print_one, NULL);
    }
    if (argc == 2 && strcmp(argv[0], "replay") == 0) {
        return dlq_replay(brokers, argv[1]);
    }
    fprintf(stderr, "usage: vigilctl dlq list [--max N] | replay <partition:offset>|--all\n");
    return 2;
}
