/* One trace record, Istio/Envoy JSON access log or APIClarity telemetry, reduced to what the
 * API inventory needs, and its attribution (source, destination, class). Strings point into
 * the record's JSON (borrowed: valid while the json_t lives) or into the record's own small
 * buffers; nothing is allocated. */
#ifndef VIGIL_INVENTORY_API_RECORD_H
#define VIGIL_INVENTORY_API_RECORD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum { API_FMT_ENVOY = 0, API_FMT_APICLARITY } api_format;
typedef enum { API_CLASS_INTERNAL = 0, API_CLASS_EXTERNAL, API_CLASS_OUTBOUND } api_class;

typedef struct api_record {
    api_format format;
    const char *method; /* NULL for opaque TCP/TLS connections */
    const char *path;   /* with the query string; NULL for TCP/TLS */
    size_t path_len;
    const char *query; /* after '?', or NULL */
    int status;        /* 0 when unknown (TCP) */
    double duration_ms;
    const char *start_time;    /* RFC 3339 when given */
    bool tls;                  /* the connection to the destination used TLS */
    const json_t *req_headers; /* APIClarity [{key,value}] or NULL */
    const json_t *resp_headers;
    const char *req_body_b64; /* APIClarity base64 bodies or NULL */
    const char *resp_body_b64;
    /* attribution */
    api_class cls;
    char service[256]; /* destination service (name.namespace) or external host */
    char host[256];    /* authority as seen (host[:port]), lowercase */
    char dst_ns[64];   /* destination namespace when known */
    char src_ip[64];   /* the caller's address (no port) */
    char source[256];  /* caller workload (name.namespace) when known, else address */
    char src_ns[64];
    char src_principal[200]; /* cluster.local/ns/<ns>/sa/<sa> when the model knows the caller */
    char dst_ip[64];         /* the destination address (upstream host) when known */
    bool inbound;            /* logged by the destination's sidecar (inbound|... cluster) */
    int port;                /* destination port when known */
} api_record;

/* Fills rec from one {"format","record"} item of a trace.batch. Returns 0, or -1 with a
 * reason in errbuf (the record is counted as rejected, never fatal for the batch). */
int api_record_parse(const json_t *item, api_record *rec, char *errbuf, size_t errlen);

/* True when host names a service inside the cluster (name, name.ns, name.ns.svc,
 * name.ns.svc.cluster.local or a private address). */
bool api_host_in_cluster(const char *host);

const char *api_class_name(api_class cls);

#endif
