/* gzip request bodies (Content-Encoding: gzip), decoded with a size limit. */
#ifndef INGEST_GZIP_H
#define INGEST_GZIP_H

#include <stddef.h>

#include "vigil/alloc.h"

#define INGEST_GUNZIP_INVALID (-1)
#define INGEST_GUNZIP_TOO_LARGE (-2)

/* Appends the decoded data of in (one or more gzip members) to out. Returns 0,
 * INGEST_GUNZIP_INVALID (not gzip, corrupt or truncated) or INGEST_GUNZIP_TOO_LARGE (more
 * than max bytes decoded; decoding stops there). */
int ingest_gunzip(const void *in, size_t len, size_t max, vg_buf *out)
    __attribute__((warn_unused_result));

#endif
