/* Token bucket; see ratelimit.h. */
#include "ratelimit.h"

static void bucket_refill(fz_bucket *b, int64_t now_us)
{
    if (now_us > b->last_us) {
        b->tokens += (double)(now_us - b->last_us) * b->rate / 1e6;
        if (b->tokens > b->burst) {
            b->tokens = b->burst;
        }
        b->last_us = now_us;
    }
}

void fz_bucket_init(fz_bucket *b, double rate, double burst, int64_t now_us)
{
    b->rate = rate;
    b->burst = burst < 1.0 ? 1.0 : burst;
    b->tokens = b->burst;
    b->last_us = now_us;
}

bool fz_bucket_take(fz_bucket *b, int64_t now_us)
{
    if (b->rate <= 0) {
        return true;
    }
    bucket_refill(b, now_us);
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
        return true;
    }
    return false;
}

int64_t fz_bucket_wait_us(fz_bucket *b, int64_t now_us)
{
    if (b->rate <= 0) {
        return 0;
    }
    bucket_refill(b, now_us);
    if (b->tokens >= 1.0) {
        return 0;
    }
    double missing = 1.0 - b->tokens;
    int64_t us = (int64_t)(missing * 1e6 / b->rate) + 1;
    return us;
}

double fz_bucket_default_burst(double rate)
{
    double burst = rate / 50.0;
    return burst < 1.0 ? 1.0 : burst;
}
