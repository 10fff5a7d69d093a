/* The message envelope every Kafka message carries (DESIGN section 2):
 * {"v":1,"id":"<uuid>","type":"trace.batch","tenant_id":"…","cluster_id":"…",
 *  "ts":"<RFC 3339>","data":{…}} */
#ifndef VIGIL_ENVELOPE_H
#define VIGIL_ENVELOPE_H

#include <jansson.h>
#include <stddef.h>

#include "vigil/util.h"

typedef struct vg_envelope {
    int v;
    char id[VG_UUID_LEN + 1];
    char type[64];
    char tenant_id[VG_UUID_LEN + 1];  /* "" when absent */
    char cluster_id[VG_UUID_LEN + 1]; /* "" when absent */
    char ts[40];
    json_t *data; /* borrowed from root */
    json_t *root;
} vg_envelope;

/* Parses and validates (v == 1, id a UUID, type non-empty [a-z0-9._-], tenant_id and
 * cluster_id UUIDs when present, ts RFC 3339, data an object). Returns 0, or -1 with the
 * reason in errbuf. On success call vg_envelope_clear. */
int vg_envelope_parse(const void *buf, size_t len, vg_envelope *env, char *errbuf, size_t errlen)
    __attribute__((warn_unused_result));
void vg_envelope_clear(vg_envelope *env);

/* Builds a serialized envelope with a new id and the current time; data is stolen.
 * tenant_id/cluster_id may be NULL. Returns a new string. */
char *vg_envelope_build(const char *type, const char *tenant_id, const char *cluster_id,
                        json_t *data);

#endif
