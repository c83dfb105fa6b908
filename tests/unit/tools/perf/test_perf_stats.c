/* tritonc-perf measurement math: percentiles, mean and deviation,
 * throughput, stability, and server statistics parse/diff/average. */
#include "tc_test.h"

#include <stdio.h>
#include <string.h>

#include "stats.h"

static void test_percentile_nearest_rank(void **state)
{
    (void)state;
    uint64_t v[10];
    for (int i = 0; i < 10; i++)
        v[i] = (uint64_t)(i + 1) * 100; /* 100 .. 1000 */
    /* index = p/100 * (n-1) + 0.5, truncated: perf_analyzer's pick. */
    assert_int_equal(perf_percentile(v, 10, 50), 600); /* 4.5 + .5 -> 5 */
    assert_int_equal(perf_percentile(v, 10, 90), 900); /* 8.1 + .5 -> 8 */
    assert_int_equal(perf_percentile(v, 10, 99), 1000);
    assert_int_equal(perf_percentile(v, 10, 0), 100);
    assert_int_equal(perf_percentile(v, 10, 100), 1000);
    assert_int_equal(perf_percentile(v, 1, 50), 100);
    assert_int_equal(perf_percentile(v, 0, 50), 0);
}

static void test_summarize(void **state)
{
    (void)state;
    uint64_t lat[] = {4000, 2000, 8000, 6000};
    perf_latency_summary s;
    perf_latency_summarize(lat, 4, -1, &s);
    assert_int_equal(s.count, 4);
    assert_true(s.avg_ns == 5000.0);
    /* population deviation of 2,4,6,8 (x1000) is sqrt(5) x 1000 */
    assert_true(s.std_ns > 2236.0 && s.std_ns < 2237.0);
    assert_int_equal(s.npct, 4);
    assert_int_equal(s.pct[0], 50);
    assert_int_equal(s.pct[3], 99);
    assert_int_equal(s.pct_ns[0], 6000); /* index 1.5 + .5 = 2 */
    assert_int_equal(lat[0], 2000);      /* sorted in place */
    assert_int_equal(perf_summary_latency_ns(&s, -1), 5000);
    assert_int_equal(perf_summary_latency_ns(&s, 99), 8000);
}

static void test_summarize_extra_percentile(void **state)
{
    (void)state;
    uint64_t lat[100];
    for (int i = 0; i < 100; i++)
        lat[i] = (uint64_t)(100 - i);
    perf_latency_summary s;
    perf_latency_summarize(lat, 100, 75, &s);
    assert_int_equal(s.npct, 5);
    int want[] = {50, 75, 90, 95, 99};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(s.pct[i], want[i]);
    assert_int_equal(perf_summary_latency_ns(&s, 75), 75); /* 74.25 + .5 -> 74 -> value 75 */
    perf_latency_summarize(lat, 100, 95, &s);              /* already listed: not twice */
    assert_int_equal(s.npct, 4);
    perf_latency_summarize(lat, 0, -1, &s);
    assert_int_equal(s.count, 0);
    assert_true(s.avg_ns == 0);
}

static void test_throughput(void **state)
{
    (void)state;
    assert_true(perf_throughput(500, 1, 1000000000u) == 500.0);
    assert_true(perf_throughput(500, 4, 2000000000u) == 1000.0);
    assert_true(perf_throughput(10, 1, 0) == 0.0);
}

static void test_stability(void **state)
{
    (void)state;
    double tput[] = {50, 100, 104, 96};
    double lat[] = {900, 500, 510, 490};
    assert_false(perf_is_stable(tput, lat, 2, 3, 10)); /* too few windows */
    assert_false(perf_is_stable(tput, lat, 3, 3, 10)); /* 50 is far off */
    assert_true(perf_is_stable(tput, lat, 4, 3, 10));
    assert_false(perf_is_stable(tput, lat, 4, 3, 3)); /* 104 vs mean 100 is 4% */
    double jumpy[] = {900, 500, 800, 490};
    assert_false(perf_is_stable(tput, jumpy, 4, 3, 10));
    assert_true(perf_is_stable(tput, NULL, 4, 3, 10)); /* throughput only */
    double zero[] = {0, 0, 0, 0};
    assert_false(perf_is_stable(zero, NULL, 4, 3, 10));
}

static const char *stats_json(int k)
{
    static char buf[2][1024];
    snprintf(buf[k], sizeof buf[k],
             "{\"model_stats\":[{\"name\":\"simple\",\"version\":\"1\",\"last_inference\":1,"
             "\"inference_count\":%d,\"execution_count\":%d,\"inference_stats\":{"
             "\"success\":{\"count\":%d,\"ns\":%d},\"fail\":{\"count\":0,\"ns\":0},"
             "\"queue\":{\"count\":%d,\"ns\":%d},\"compute_input\":{\"count\":%d,\"ns\":%d},"
             "\"compute_infer\":{\"count\":%d,\"ns\":%d},\"compute_output\":{\"count\":%d,"
             "\"ns\":%d},\"cache_hit\":{\"count\":0,\"ns\":0},\"cache_miss\":{\"count\":0,"
             "\"ns\":0}},\"batch_stats\":[]},"
             "{\"name\":\"other\",\"version\":\"1\",\"inference_count\":7}]}",
             10 + 100 * k, 10 + 50 * k, 10 + 100 * k, 1000 + 9000000 * k, 10 + 100 * k,
             100 + 1000000 * k, 10 + 100 * k, 100 + 500000 * k, 10 + 100 * k, 100 + 6000000 * k,
             10 + 100 * k, 100 + 700000 * k);
    return buf[k];
}

static void test_server_stats(void **state)
{
    (void)state;
    perf_server_stats a;
    perf_server_stats b;
    perf_server_stats d;
    char err[128];
    assert_true(perf_server_stats_parse(stats_json(0), "simple", "", &a, err, sizeof err));
    assert_true(perf_server_stats_parse(stats_json(1), "simple", "1", &b, err, sizeof err));
    assert_int_equal(a.inference_count, 10);
    assert_int_equal(b.compute_infer.ns, 6000100);
    perf_server_stats_diff(&b, &a, &d);
    assert_int_equal(d.inference_count, 100);
    assert_int_equal(d.execution_count, 50);
    assert_int_equal(d.success.count, 100);
    perf_server_avg avg;
    perf_server_stats_average(&d, &avg);
    assert_int_equal(avg.request_us, 90); /* 9 ms / 100 */
    assert_int_equal(avg.queue_us, 10);
    assert_int_equal(avg.compute_input_us, 5);
    assert_int_equal(avg.compute_infer_us, 60);
    assert_int_equal(avg.compute_output_us, 7);
    assert_int_equal(avg.overhead_us, 8); /* 90 - 82 */
    perf_server_stats sum = d;
    perf_server_stats_add(&sum, &d);
    assert_int_equal(sum.success.count, 200);
    perf_server_stats_diff(&a, &b, &d); /* counters going down clamp at 0 */
    assert_int_equal(d.inference_count, 0);

    assert_false(perf_server_stats_parse(stats_json(0), "simple", "2", &a, err, sizeof err));
    assert_false(perf_server_stats_parse(stats_json(0), "nope", "", &a, err, sizeof err));
    assert_non_null(strstr(err, "nope"));
    assert_false(perf_server_stats_parse("[1,2]", "simple", "", &a, err, sizeof err));
    assert_false(perf_server_stats_parse("{not json", "simple", "", &a, err, sizeof err));
}

static void test_server_average_zero(void **state)
{
    (void)state;
    perf_server_stats s;
    memset(&s, 0, sizeof s);
    s.queue.ns = 5000;
    perf_server_avg avg;
    perf_server_stats_average(&s, &avg);
    assert_int_equal(avg.request_us, 0);
    assert_int_equal(avg.queue_us, 0);
    /* Parts larger than the request latency: overhead clamps at 0. */
    s.success.count = 1;
    s.success.ns = 1000;
    perf_server_stats_average(&s, &avg);
    assert_int_equal(avg.overhead_us, 0);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_percentile_nearest_rank),
    cmocka_unit_test(test_summarize),
    cmocka_unit_test(test_summarize_extra_percentile),
    cmocka_unit_test(test_throughput),
    cmocka_unit_test(test_stability),
    cmocka_unit_test(test_server_stats),
    cmocka_unit_test(test_server_average_zero),
};

TC_TEST_MAIN(tests)
