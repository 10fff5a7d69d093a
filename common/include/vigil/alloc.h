/* Allocation helpers that abort on out-of-memory, so callers never check NULL. */
#ifndef VIGIL_ALLOC_H
#define VIGIL_ALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *vg_malloc(size_t n);
void *vg_calloc(size_t count, size_t size);
void *vg_realloc(void *p, size_t n);
/* Returns a copy of s; vg_strdup(NULL) returns NULL. */
char *vg_strdup(const char *s);
char *vg_strndup(const char *s, size_t n);
/* printf into a new string owned by the caller. */
char *vg_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *vg_vasprintf(const char *fmt, va_list ap);

/* A growable byte buffer; the data is always NUL-terminated. */
typedef struct vg_buf {
    char *data;
    size_t len;
    size_t cap;
} vg_buf;

void vg_buf_append(vg_buf *b, const void *data, size_t len);
void vg_buf_puts(vg_buf *b, const char *s);
void vg_buf_printf(vg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vg_buf_reset(vg_buf *b);
/* Frees the data; the buffer may be reused (it is left empty). */
void vg_buf_free(vg_buf *b);
/* Hands the data over to the caller (to free()); the buffer is left empty. */
char *vg_buf_steal(vg_buf *b);

#endif
