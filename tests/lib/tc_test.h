/* Test helpers: a cmocka main that runs one named case (ctest registers one
 * entry per case, each in its own process) or all of them. */
#ifndef TC_TESTS_LIB_TC_TEST_H
#define TC_TESTS_LIB_TC_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

#endif /* TC_TESTS_LIB_TC_TEST_H */
