/* Token-bucket rate limiter: `rate` tokens per second, at most `burst` stored. Pure logic on
 * caller-supplied microsecond clocks, so it is unit-testable and lock-free (one owner). */
#ifndef FUZZER_RATELIMIT_H
#define FUZZER_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct fz_bucket {
    double rate;  /* tokens per second; <= 0 means unlimited */
    double burst; /* capacity */
    double tokens;
    int64_t last_us;
} fz_bucket;

/* Starts full (burst tokens). burst < 1 is raised to 1. */
void fz_bucket_init(fz_bucket *b, double rate, double burst, int64_t now_us);
/* Takes one token when available. */
bool fz_bucket_take(fz_bucket *b, int64_t now_us);
/* Microseconds until one token is available (0 when one is there now). */
int64_t fz_bucket_wait_us(fz_bucket *b, int64_t now_us);
/* The default burst for a rate: 1/50 s worth of tokens, at least 1. */
double fz_bucket_default_burst(double rate);

#endif
