/* gzip decoding with zlib, bounded so a small bomb cannot exhaust memory. */
#include "gzip.h"

#include <string.h>
#include <zlib.h>

int ingest_gunzip(const void *in, size_t len, size_t max, vg_buf *out)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
        return INGEST_GUNZIP_INVALID;
    }
    zs.next_in = (Bytef *)in;
    size_t left = len, total = 0;
    int rc = INGEST_GUNZIP_INVALID;
    unsigned char chunk[65536];
    for (;;) {
        uInt feed = left > (1u << 30) ? (1u << 30) : (uInt)left;
        if (zs.avail_in == 0) {
            zs.avail_in = feed;
            left -= feed;
        }
        zs.next_out = chunk;
        zs.avail_out = sizeof chunk;
        int z = inflate(&zs, Z_NO_FLUSH);
        size_t got = sizeof chunk - zs.avail_out;
        if (total + got > max) {
            rc = INGEST_GUNZIP_TOO_LARGE;
            break;
        }
        vg_buf_append(out, chunk, got);
        total += got;
        if (z == Z_STREAM_END) {
            if (zs.avail_in == 0 && left == 0) {
                rc = 0;
                break;
            }
            if (inflateReset(&zs) != Z_OK) { /* another gzip member follows */
                break;
            }
            continue;
        }
        if (z != Z_OK && !(z == Z_BUF_ERROR && got > 0)) {
            break; /* corrupt data, or truncated input (Z_BUF_ERROR with no progress) */
        }
    }
    inflateEnd(&zs);
    return rc;
}
