/* The token bucket that paces every request of a job. */
#include "../../services/fuzzer/ratelimit.h"
#include "harness.h"

static void test_burst_then_paced(void)
{
    fz_bucket b;
    fz_bucket_init(&b, 50.0, 1.0, 0);
    CHECK(fz_bucket_take(&b, 0));
    CHECK(!fz_bucket_take(&b, 0));
    CHECK_INT_EQ(fz_bucket_wait_us(&b, 0) > 19000 && fz_bucket_wait_us(&b, 0) <= 20001, 1);
    CHECK(!fz_bucket_take(&b, 19000));
    CHECK(fz_bucket_take(&b, 20001));
}

static void test_rate_over_a_second(void)
{
    fz_bucket b;
    fz_bucket_init(&b, 100.0, fz_bucket_default_burst(100.0), 0);
    int taken = 0;
    for (int64_t t = 0; t < 1000000; t += 100) { /* poll every 0.1 ms for 1 s */
        taken += fz_bucket_take(&b, t);
    }
    /* 100/s plus the initial burst of 2 */
    CHECK(taken >= 100 && taken <= 102);
}

static void test_capacity_capped(void)
{
    fz_bucket b;
    fz_bucket_init(&b, 10.0, 3.0, 0);
    for (int i = 0; i < 3; i++) {
        CHECK(fz_bucket_take(&b, 0));
    }
    /* a long idle period refills only up to the burst */
    int taken = 0;
    for (int i = 0; i < 10; i++) {
        taken += fz_bucket_take(&b, 60 * 1000000LL);
    }
    CHECK_INT_EQ(taken, 3);
}

static void test_unlimited_and_defaults(void)
{
    fz_bucket b;
    fz_bucket_init(&b, 0, 0, 0);
    for (int i = 0; i < 1000; i++) {
        CHECK(fz_bucket_take(&b, 0));
    }
    CHECK_INT_EQ(fz_bucket_wait_us(&b, 0), 0);
    CHECK(fz_bucket_default_burst(10) == 1.0);
    CHECK(fz_bucket_default_burst(5000) == 100.0);
}

int main(void)
{
    RUN(test_burst_then_paced);
    RUN(test_rate_over_a_second);
    RUN(test_capacity_capped);
    RUN(test_unlimited_and_defaults);
    return harness_report("test_fuzzer_ratelimit");
}
