/* Test helpers: a cmocka main that runs one named case (ctest registers one
 * entry per case, each in its own process) or all of them. */
#ifndef TC_TESTS_LIB_TC_TEST_H
#define TC_TESTS_LIB_TC_TEST_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <cmocka.h>

/* Usage: TC_TEST_MAIN(tests) after `static const struct CMUnitTest tests[] = {...};`.
 * With an argument, only the case of that name runs. */
#define TC_TEST_MAIN(tests)                                                                        \
    int main(int argc, char **argv)                                                                \
    {                                                                                              \
        if (argc > 1)                                                                              \
            cmocka_set_test_filter(argv[1]);                                                       \
        return cmocka_run_group_tests(tests, NULL, NULL);                                          \
    }

/* Milliseconds on the monotonic clock. */
static inline long long tc_test_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A pause. Never a synchronisation: only the interval of a bounded polling
 * loop, or a pause whose caller says why it is not one. */
static inline void tc_test_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* How often tc_test_wait_until() looks at its condition. */
#define TC_TEST_POLL_MS 5

/* Wait for an observable condition: `cond(arg)` every TC_TEST_POLL_MS until
 * it holds (true) or `timeout_ms` have passed (false). The caller asserts the
 * result, so a condition that never comes fails the test instead of letting
 * it go on on a guess. */
static inline bool tc_test_wait_until(bool (*cond)(void *arg), void *arg, long timeout_ms)
{
    long long deadline = tc_test_now_ms() + timeout_ms;
    for (;;) {
        if (cond(arg))
            return true;
        if (tc_test_now_ms() >= deadline)
            return false;
        tc_test_sleep_ms(TC_TEST_POLL_MS);
    }
}

#endif /* TC_TESTS_LIB_TC_TEST_H */
