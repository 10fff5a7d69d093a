/* The one unit-test harness of the repo: CHECK macros that count and report failures,
 * RUN(fn) to run a test function, and a closing "N passed, N failed" line. */
#ifndef VIGIL_TEST_HARNESS_H
#define VIGIL_TEST_HARNESS_H

#include <stdio.h>
#include <string.h>

static int harness_checks_failed;
static int harness_tests_passed;
static int harness_tests_failed;
static int harness_current_failed;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "  FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                      \
            harness_checks_failed++;                                                               \
            harness_current_failed++;                                                              \
        }                                                                                          \
    } while (0)

#define CHECK_INT_EQ(a, b)                                                                         \
    do {                                                                                           \
        long long va_ = (long long)(a), vb_ = (long long)(b);                                      \
        if (va_ != vb_) {                                                                          \
            fprintf(stderr, "  FAIL %s:%d: %s == %s (%lld != %lld)\n", __FILE__, __LINE__, #a, #b, \
                    va_, vb_);                                                                     \
            harness_checks_failed++;                                                               \
            harness_current_failed++;                                                              \
        }                                                                                          \
    } while (0)

#define CHECK_STR_EQ(a, b)                                                                         \
    do {                                                                                           \
        const char *sa_ = (a), *sb_ = (b);                                                         \
        if (sa_ == NULL || sb_ == NULL || strcmp(sa_, sb_) != 0) {                                 \
            fprintf(stderr, "  FAIL %s:%d: %s == %s (\"%s\" != \"%s\")\n", __FILE__, __LINE__, #a, \
                    #b, sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)");                               \
            harness_checks_failed++;                                                               \
            harness_current_failed++;                                                              \
        }                                                                                          \
    } while (0)

#define RUN(fn)                                                                                    \
    do {                                                                                           \
        harness_current_failed = 0;                                                                \
        fn();                                                                                      \
        if (harness_current_failed == 0) {                                                         \
            harness_tests_passed++;                                                                \
        } else {                                                                                   \
            harness_tests_failed++;                                                                \
            fprintf(stderr, "FAILED %s\n", #fn);                                                   \
        }                                                                                          \
    } while (0)

/* Prints the closing line and returns the exit status for main. */
static inline int harness_report(const char *suite)
{
    printf("%s: %d passed, %d failed\n", suite, harness_tests_passed, harness_tests_failed);
    return harness_tests_failed == 0 ? 0 : 1;
}

#endif
