/* Trace bodies of POST /v1/traces: a JSON array or NDJSON of Istio/Envoy JSON access-log
 * records and APIClarity telemetry objects. Each record is validated on its own; the
 * accepted ones are packed, byte for byte as received, into trace.batch envelopes.
 * Pure functions (no I/O): fuzzed by tests/fuzz/fuzz_ingest_traces.c. */
#ifndef INGEST_TRACES_H
#define INGEST_TRACES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "vigil/alloc.h"

typedef enum { INGEST_FMT_ENVOY = 0, INGEST_FMT_APICLARITY } ingest_trace_format;

/* One accepted record: text points into the parsed body (valid while the body is). */
typedef struct ingest_trace_rec {
    const char *text;
    size_t len;
    ingest_trace_format fmt;
} ingest_trace_rec;

typedef struct ingest_trace_set {
    ingest_trace_rec *recs; /* accepted records, in body order */
    size_t nrecs;
    size_t caprecs;
    size_t rejected;
    size_t errors_dropped; /* rejected records beyond INGEST_TRACE_MAX_ERRORS */
    json_t *errors;        /* [{index, message}], at most INGEST_TRACE_MAX_ERRORS */
} ingest_trace_set;

#define INGEST_TRACE_MAX_ERRORS 1000
#define INGEST_TRACE_MAX_RECORD (1024 * 1024)

/* Parses body (len bytes; need not be NUL-terminated) into set. Returns 0, or -1 with a
 * message in errbuf when the body as a whole is unusable (empty, or a JSON array that is
 * not well-formed). Call ingest_trace_set_free afterwards in both cases. */
int ingest_traces_parse(const char *body, size_t len, ingest_trace_set *set, char *errbuf,
                        size_t errlen) __attribute__((warn_unused_result));
void ingest_trace_set_free(ingest_trace_set *set);

/* Checks one decoded record; returns true and sets *fmt, or false with a message. */
bool ingest_trace_validate(json_t *rec, ingest_trace_format *fmt, char *msg, size_t msglen);

/* Packs the accepted records into trace.batch envelopes of at most max_records records and
 * about max_bytes bytes each. Returns the number of messages; *out gets a new array of new
 * strings (free each, then the array). */
size_t ingest_traces_batches(const ingest_trace_set *set, const char *tenant_id,
                             const char *cluster_id, size_t max_records, size_t max_bytes,
                             char ***out);

/* Opens an envelope {"v":1,"id":…,"type":…,"tenant_id":…,"cluster_id":…,"ts":…,"data":
 * in b; the caller appends the data object and a final '}'. The ids must be UUIDs (or
 * NULL) and type a plain token: nothing is escaped. */
void ingest_envelope_open(vg_buf *b, const char *type, const char *tenant_id,
                          const char *cluster_id);

#endif
