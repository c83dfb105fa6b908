/* tritonc-perf run as a user runs it, against tritonc-server on ephemeral
 * ports: a concurrency sweep with CSV, profile export and SVG plot, the
 * request-rate mode, input data from a JSON file, --shape for a model with
 * variable dims, and bad flags. */
#include "tc_test.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <tritonc/tritonc.h>

#include "server_proc.h"

#ifndef TC_PERF_BIN
#define TC_PERF_BIN TC_EXAMPLES_DIR "/../tools/perf/tritonc-perf"
#endif

#define CSV_HEADER                                                                                 \
    "Concurrency,Inferences/Second,Client Send,Network+Server Send/Recv,Server Queue,"             \
    "Server Compute Input,Server Compute Infer,Server Compute Output,Client Recv,p50 latency,"     \
    "p90 latency,p95 latency,p99 latency"

typedef struct fixture {
    tc_test_server server;
    char dir[64];
} fixture;

static void skip_without_tool(void)
{
    if (access(TC_PERF_BIN, X_OK) != 0) {
        fprintf(stderr, "tritonc-perf not built (%s): skipped\n", TC_PERF_BIN);
        skip();
    }
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/tc_perf_XXXXXX");
    if (mkdtemp(f->dir) == NULL || tc_test_server_start(&f->server, TC_MODELS_DIR, NULL) != 0) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

/* As setup(), with a server that accepts client shared memory. */
static int setup_shm(void **state)
{
    static const char *const args[] = {"--allow-client-shm=true", NULL};
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/tc_perf_XXXXXX");
    if (mkdtemp(f->dir) == NULL || tc_test_server_start(&f->server, TC_MODELS_DIR, args) != 0) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    int rc = tc_test_server_stop(&f->server);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", f->dir);
    free(f);
    assert_int_equal(rc, 0);
    return 0;
}

/* Run tritonc-perf with `args` (and -u for the fixture's server when `f` is
 * not NULL); returns its combined output, `*status` its exit status. */
static char *run_perf(const fixture *f, const char *args, int *status)
{
    char cmd[2048];
    if (f != NULL)
        snprintf(cmd, sizeof cmd, "%s -u 127.0.0.1:%d %s 2>&1", TC_PERF_BIN, f->server.http_port,
                 args);
    else
        snprintf(cmd, sizeof cmd, "%s %s 2>&1", TC_PERF_BIN, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 16;
    size_t used = 0;
    char *out = malloc(cap);
    size_t r;
    while ((r = fread(out + used, 1, cap - used - 1, p)) > 0) {
        used += r;
        if (used + 1 >= cap) {
            cap *= 2;
            out = realloc(out, cap);
        }
    }
    out[used] = '\0';
    int st = pclose(p);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return out;
}

static char *run_ok(const fixture *f, const char *args)
{
    int status = -1;
    char *out = run_perf(f, args, &status);
    if (status != 0)
        fprintf(stderr, "tritonc-perf %s exited %d:\n%s\n", args, status, out);
    assert_int_equal(status, 0);
    return out;
}

static char *read_text(const char *path)
{
    size_t len = 0;
    char *text = (char *)tc_test_read_file(path, &len);
    assert_non_null(text);
    return text;
}

/* Split the CSV text into lines (in place); returns the line count. */
static size_t csv_lines(char *text, char **lines, size_t max)
{
    size_t n = 0;
    for (char *line = text; *line != '\0' && n < max;) {
        char *nl = strchr(line, '\n');
        lines[n++] = line;
        if (nl == NULL)
            break;
        *nl = '\0';
        line = nl + 1;
    }
    return n;
}

/* Every field of a data row is a number; columns 1 (throughput) and the
 * p50..p99 ones (last four) must be positive. */
static void check_row(char *row, double first)
{
    double v[32] = {0};
    size_t n = 0;
    if (row == NULL) {
        fail();
        return;
    }
    char *p = row;
    while (n < 32) {
        char *end = NULL;
        v[n++] = strtod(p, &end);
        assert_true(end != p);
        if (*end != ',')
            break;
        p = end + 1;
    }
    assert_int_equal(n, 13);
    assert_true(v[0] == first);
    assert_true(v[1] > 0);
    for (size_t i = 9; i < 13; i++)
        assert_true(v[i] > 0);
    for (size_t i = 0; i < n; i++)
        assert_true(v[i] >= 0);
}

static void test_concurrency_sweep(void **state)
{
    skip_without_tool();
    fixture *f = *state;
    char args[1024];
    snprintf(args, sizeof args,
             "-m simple --concurrency-range 1:2 -p 300 -s 100 -f %s/r.csv --plot %s/r.svg "
             "--profile-export-file %s/r.json",
             f->dir, f->dir, f->dir);
    char *out = run_ok(f, args);
    assert_non_null(strstr(out, "*** Measurement Settings ***"));
    assert_non_null(strstr(out, "Request concurrency: 1\n  Client: \n    Request count: "));
    assert_non_null(strstr(out, "Request concurrency: 2\n"));
    assert_non_null(strstr(out, "    Successful request count: "));
    assert_non_null(strstr(out, "Inferences/Second vs. Client Average Batch Latency\n"
                                "Concurrency: 1, throughput: "));
    free(out);

    char path[128];
    snprintf(path, sizeof path, "%s/r.csv", f->dir);
    char *csv = read_text(path);
    char *lines[8] = {0};
    size_t n = csv_lines(csv, lines, 8);
    assert_int_equal(n, 3);
    assert_string_equal(lines[0], CSV_HEADER);
    check_row(lines[1], 1);
    check_row(lines[2], 2);
    free(csv);

    snprintf(path, sizeof path, "%s/r.svg", f->dir);
    char *svg = read_text(path);
    assert_true(strncmp(svg, "<svg", 4) == 0);
    assert_non_null(strstr(svg, "<polyline"));
    assert_non_null(strstr(svg, "points=\""));
    assert_non_null(strstr(svg, "<circle"));
    assert_non_null(strstr(svg, "</svg>"));
    free(svg);

    snprintf(path, sizeof path, "%s/r.json", f->dir);
    json_object *root = json_object_from_file(path);
    assert_non_null(root);
    json_object *exps = NULL;
    assert_true(json_object_object_get_ex(root, "experiments", &exps));
    assert_int_equal(json_object_array_length(exps), 2);
    json_object *reqs = NULL;
    assert_true(json_object_object_get_ex(json_object_array_get_idx(exps, 0), "requests", &reqs));
    assert_true(json_object_array_length(reqs) > 0);
    json_object_put(root);
}

static void test_request_rate(void **state)
{
    skip_without_tool();
    fixture *f = *state;
    char args[512];
    snprintf(args, sizeof args, "-m simple --request-rate-range 40 -p 750 -s 100 -f %s/rate.csv",
             f->dir);
    char *out = run_ok(f, args);
    assert_non_null(strstr(out, "Request Rate: 40 inference requests per seconds"));
    assert_non_null(strstr(out, "    Late sends: "));
    free(out);
    char path[128];
    snprintf(path, sizeof path, "%s/rate.csv", f->dir);
    char *csv = read_text(path);
    char *lines[4] = {0};
    assert_int_equal(csv_lines(csv, lines, 4), 2);
    assert_true(strncmp(lines[0], "Request Rate,Inferences/Second,", 31) == 0);
    double rate = strtod(lines[1], NULL);
    double tput = strtod(strchr(lines[1], ',') + 1, NULL);
    assert_true(rate == 40);
    /* The window count of 40/s over 3 x 0.75 s is ~90 requests: within 15%. */
    assert_true(tput > 34 && tput < 46);
    free(csv);
}

static void test_input_data_file(void **state)
{
    skip_without_tool();
    fixture *f = *state;
    char path[128];
    snprintf(path, sizeof path, "%s/data.json", f->dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    /* Step 1: plain lists; step 2: content/shape and base64 (16 x int32 1). */
    fprintf(fp, "{\"data\": [\n"
                " {\"INPUT0\": [0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15],\n"
                "  \"INPUT1\": [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]},\n"
                " {\"INPUT0\": {\"content\": [[1,2,3,4,5,6,7,8],[9,10,11,12,13,14,15,16]],"
                " \"shape\": [16]},\n"
                "  \"INPUT1\": {\"b64\": \"");
    fprintf(fp, "AQAAAAEAAAABAAAAAQAAAAEAAAABAAAAAQAAAAEAAAABAAAAAQAAAAEAAAABAAAAAQAAAAEAAAABAAAAAQ"
                "AAAA==\"}}\n"
                "]}\n");
    fclose(fp);
    char args[512];
    snprintf(args, sizeof args, "-m simple --input-data %s -p 300 -s 100 -f %s/data.csv", path,
             f->dir);
    free(run_ok(f, args));
    snprintf(path, sizeof path, "%s/data.csv", f->dir);
    char *csv = read_text(path);
    char *lines[4] = {0};
    assert_int_equal(csv_lines(csv, lines, 4), 2);
    check_row(lines[1], 1);
    free(csv);

    /* A file that does not fit the model fails with a message. */
    snprintf(path, sizeof path, "%s/bad.json", f->dir);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fprintf(fp, "{\"data\": [{\"INPUT0\": [1, 2, 3], \"INPUT1\": [1]}]}");
    fclose(fp);
    snprintf(args, sizeof args, "-m simple --input-data %s -p 300", path);
    int status = 0;
    char *out = run_perf(f, args, &status);
    assert_int_not_equal(status, 0);
    assert_non_null(strstr(out, "INPUT0"));
    free(out);
}

static void test_shape_variable_dims(void **state)
{
    skip_without_tool();
    fixture *f = *state;
    char *out = run_ok(f, "-m custom_identity_int32 --shape INPUT0:8 -b 2 -p 300 -s 100 --async "
                          "--concurrency-range 2");
    assert_non_null(strstr(out, "  Batch size: 2\n"));
    assert_non_null(strstr(out, "Concurrency: 2, throughput: "));
    free(out);
    int status = 0;
    out = run_perf(f, "-m custom_identity_int32 -p 300", &status);
    assert_int_not_equal(status, 0);
    assert_non_null(strstr(out, "--shape INPUT0"));
    free(out);
}

static void test_grpc_and_streaming(void **state)
{
    skip_without_tool();
    fixture *f = *state;
    if (f->server.grpc_port <= 0) {
        fprintf(stderr, "the server serves no gRPC: skipped\n");
        skip();
    }
    char args[512];
    snprintf(args, sizeof args,
             "-i grpc -u 127.0.0.1:%d -m simple --concurrency-range 1:2 -p 300 -s 100 -f %s/g.csv",
             f->server.grpc_port, f->dir);
    char *out = run_ok(NULL, args);
    assert_non_null(strstr(out, "    Avg gRPC time: "));
    free(out);
    char path[128];
    snprintf(path, sizeof path, "%s/g.csv", f->dir);
    char *csv = read_text(path);
    char *lines[8] = {0};
    assert_int_equal(csv_lines(csv, lines, 8), 3);
    assert_string_equal(lines[0], CSV_HEADER);
    check_row(lines[1], 1);
    check_row(lines[2], 2);
    free(csv);
    snprintf(args, sizeof args,
             "-i grpc -u 127.0.0.1:%d -m simple --streaming --concurrency-range 3 -p 300 -s 100",
             f->server.grpc_port);
    out = run_ok(NULL, args);
    assert_non_null(strstr(out, "  Using asynchronous calls for inference\n"));
    assert_non_null(strstr(out, "Concurrency: 3, throughput: "));
    free(out);
}

/* Column `col` of CSV data row `row` as a number. */
static double csv_field(const char *row, size_t col)
{
    const char *p = row;
    for (size_t i = 0; i < col && p != NULL; i++) {
        p = strchr(p, ',');
        if (p != NULL)
            p++;
    }
    assert_non_null(p);
    return strtod(p, NULL);
}

/* Client Send (column 2) and Client Recv (column 8) come from the request
 * timers: over HTTP both take measurable time; gRPC's are filled too. */
static void test_client_send_recv(void **state)
{
    skip_without_tool();
    fixture *f = *state;
    char args[512];
    snprintf(args, sizeof args, "-m simple -p 300 -s 100 -f %s/t.csv --verbose-csv", f->dir);
    char *out = run_ok(f, args);
    assert_non_null(strstr(out, "    Avg HTTP time: "));
    assert_non_null(strstr(out, " usec (send "));
    assert_non_null(strstr(out, " usec + response wait "));
    assert_non_null(strstr(out, " usec + receive "));
    free(out);
    char path[128];
    snprintf(path, sizeof path, "%s/t.csv", f->dir);
    char *csv = read_text(path);
    char *lines[4] = {0};
    assert_int_equal(csv_lines(csv, lines, 4), 2);
    assert_non_null(strstr(lines[0], ",request/response,response wait"));
    /* Microseconds: the lean transport's send is a single sendmsg, which can
     * round to 0 us; receive parses and decodes the answer. Their sum,
     * request/response (third column from the end), is non-zero. */
    assert_true(csv_field(lines[1], 2) >= 0);
    assert_true(csv_field(lines[1], 8) > 0 || csv_field(lines[1], 2) > 0);
    free(csv);
    if (f->server.grpc_port <= 0)
        return;
    snprintf(args, sizeof args, "-i grpc -u 127.0.0.1:%d -m simple -p 300 -s 100 -f %s/tg.csv",
             f->server.grpc_port, f->dir);
    out = run_ok(NULL, args);
    assert_non_null(strstr(out, "    Avg gRPC time: "));
    assert_non_null(strstr(out, "((un)marshal request/response "));
    assert_null(strstr(out, "n/a"));
    free(out);
    snprintf(path, sizeof path, "%s/tg.csv", f->dir);
    csv = read_text(path);
    assert_int_equal(csv_lines(csv, lines, 4), 2);
    check_row(lines[1], 1);
    assert_true(csv_field(lines[1], 8) > 0 || csv_field(lines[1], 2) > 0);
    free(csv);
}

/* Names under /dev/shm that this tool run could have left ("tcperf_"). */
static size_t leftover_regions(void)
{
    FILE *p = popen("ls /dev/shm 2>/dev/null | grep -c '^tcperf_'", "r");
    assert_non_null(p);
    char buf[32] = "";
    if (fgets(buf, sizeof buf, p) == NULL)
        buf[0] = '\0';
    pclose(p);
    return (size_t)strtoul(buf, NULL, 10);
}

/* --shared-memory system: inputs and outputs in registered POSIX regions,
 * over HTTP (sync and async) and gRPC (and streaming); nothing is left
 * registered on the server or in /dev/shm afterwards. */
static void test_shared_memory_system(void **state)
{
    skip_without_tool();
    fixture *f = *state;
    size_t before = leftover_regions();
    char args[512];
    snprintf(args, sizeof args,
             "-m custom_identity_int32 --shape INPUT0:8 -b 2 --shared-memory system "
             "--output-shared-memory-size 4096 --concurrency-range 1:2 -p 300 -s 100 "
             "-f %s/shm.csv",
             f->dir);
    char *out = run_ok(f, args);
    assert_non_null(strstr(out, "Concurrency: 2, throughput: "));
    free(out);
    char path[128];
    snprintf(path, sizeof path, "%s/shm.csv", f->dir);
    char *csv = read_text(path);
    char *lines[8] = {0};
    assert_int_equal(csv_lines(csv, lines, 8), 3);
    check_row(lines[1], 1);
    check_row(lines[2], 2);
    free(csv);
    out = run_ok(f, "-m custom_identity_int32 --shape INPUT0:8 --shared-memory system --async "
                    "--concurrency-range 3 -p 300 -s 100");
    assert_non_null(strstr(out, "Concurrency: 3, throughput: "));
    free(out);
    assert_int_equal(leftover_regions(), before);
    /* The server holds no region either. */
    char url[64];
    snprintf(url, sizeof url, "127.0.0.1:%d", f->server.http_port);
    tc_client *c = NULL;
    tc_shm_status *st = NULL;
    assert_int_equal(tc_http_client_new(&c, url, NULL), TC_OK);
    assert_int_equal(tc_client_system_shm_status(c, NULL, NULL, &st), TC_OK);
    assert_int_equal(tc_shm_status_count(st), 0);
    tc_shm_status_free(st);
    assert_int_equal(tc_client_free(c), TC_OK);
    if (f->server.grpc_port <= 0)
        return;
    snprintf(args, sizeof args,
             "-i grpc -u 127.0.0.1:%d -m custom_identity_int32 --shape INPUT0:8 "
             "--shared-memory system --concurrency-range 2 -p 300 -s 100",
             f->server.grpc_port);
    out = run_ok(NULL, args);
    assert_non_null(strstr(out, "Concurrency: 2, throughput: "));
    free(out);
    snprintf(args, sizeof args,
             "-i grpc -u 127.0.0.1:%d -m custom_identity_int32 --shape INPUT0:8 --streaming "
             "--shared-memory system --concurrency-range 2 -p 300 -s 100",
             f->server.grpc_port);
    out = run_ok(NULL, args);
    assert_non_null(strstr(out, "Concurrency: 2, throughput: "));
    free(out);
    assert_int_equal(leftover_regions(), before);
}

/* Without --allow-client-shm the registration fails with the server's word. */
static void test_shared_memory_refused(void **state)
{
    skip_without_tool();
    fixture *f = *state;
    size_t before = leftover_regions();
    int status = 0;
    char *out = run_perf(f, "-m custom_identity_int32 --shape INPUT0:8 --shared-memory system -p 300",
                         &status);
    assert_int_equal(status, 1);
    assert_non_null(strstr(out, "cannot register shared memory region"));
    free(out);
    assert_int_equal(leftover_regions(), before);
}

/* --shared-memory cuda without a CUDA runtime fails, saying why. */
static void test_shared_memory_cuda(void **state)
{
    skip_without_tool();
    fixture *f = *state;
    int count = 0;
    if (tc_cuda_device_count(&count) == TC_OK && count > 0) {
        fprintf(stderr, "a CUDA device is present: the failure case does not apply\n");
        skip();
    }
    int status = 0;
    char *out = run_perf(f, "-m custom_identity_int32 --shape INPUT0:8 --shared-memory cuda -p 300",
                         &status);
    if (strstr(out, "CUDA is not available") == NULL)
        fprintf(stderr, "tritonc-perf printed:\n%s\n", out);
    assert_int_equal(status, 1);
    assert_non_null(strstr(out, "error: --shared-memory cuda needs a CUDA device"));
    assert_non_null(strstr(out, "CUDA is not available"));
    free(out);
}

static void expect_bad(const char *args, const char *message)
{
    int status = 0;
    char *out = run_perf(NULL, args, &status);
    if (strstr(out, message) == NULL)
        fprintf(stderr, "tritonc-perf %s printed:\n%s\n", args, out);
    assert_int_equal(status, 3);
    assert_non_null(strstr(out, message));
    free(out);
}

static void test_bad_flags(void **state)
{
    (void)state;
    skip_without_tool();
    expect_bad("--concurrency-range 1:2", "-m MODEL is required");
    expect_bad("-m simple --concurrency-range 0", "bad range");
    expect_bad("-m simple --concurrency-range 3:1", "bad range");
    expect_bad("-m simple --request-rate-range x", "bad range");
    expect_bad("-m simple --concurrency-range 1 --request-rate-range 5", "together");
    expect_bad("-m simple --no-such-flag", "unknown option '--no-such-flag'");
    expect_bad("-m simple -i carrier-pigeon", "unknown value 'carrier-pigeon'");
    expect_bad("-m simple --streaming", "only allowed with gRPC");
    expect_bad("-m simple --shared-memory shm", "unknown value 'shm'");
    expect_bad("-m simple -p", "missing value");
    expect_bad("-m simple --shape INPUT0", "--shape wants NAME:d1,d2");
    expect_bad("-m simple --percentile 100", "--percentile");
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_concurrency_sweep, setup, teardown),
    cmocka_unit_test_setup_teardown(test_request_rate, setup, teardown),
    cmocka_unit_test_setup_teardown(test_input_data_file, setup, teardown),
    cmocka_unit_test_setup_teardown(test_shape_variable_dims, setup, teardown),
    cmocka_unit_test_setup_teardown(test_grpc_and_streaming, setup, teardown),
    cmocka_unit_test_setup_teardown(test_client_send_recv, setup, teardown),
    cmocka_unit_test_setup_teardown(test_shared_memory_system, setup_shm, teardown),
    cmocka_unit_test_setup_teardown(test_shared_memory_refused, setup, teardown),
    cmocka_unit_test_setup_teardown(test_shared_memory_cuda, setup_shm, teardown),
    cmocka_unit_test(test_bad_flags),
};

TC_TEST_MAIN(tests)
