/* tritonc-server's system and CUDA shared memory over HTTP (raw HTTP/1.1)
 * and gRPC (raw nghttp2 client): registration checks, the
 * --allow-client-shm gate, window bounds in inference, overlapping
 * regions, unregistering while a request is in flight, and the golden
 * requests of upstream's simple_{http,grpc}_shm_client replayed after
 * creating the regions they name. CUDA goes through the stand-in runtime
 * (tests/unit/server/fake_cudart.c) or reports "GPUs not supported".
 * Every shm object a test creates is unlinked by that test. */
#define _GNU_SOURCE
#include "tc_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/base64.h"
#include "grpc_raw.h"
#include "grpc_service.pb-c.h"
#include "server_proc.h"

#define SVC         "/inference.GRPCInferenceService/"
#define HTTP_GOLDEN TC_SHARED_DIR "/spec/golden/http/simple_http_shm_client/"
#define GRPC_GOLDEN TC_GOLDEN_DIR "/grpc/simple_grpc_shm_client/"
#define DISABLED                                                                                   \
    "Client shared memory is disabled. Start the server with '--allow-client-shm=true' to enable."

typedef struct fixture {
    tc_test_server server;
    tc_grpc_raw *conn;
} fixture;

/* ---- shm objects ------------------------------------------------------------------------- */

typedef struct obj {
    char key[80];
    uint8_t *p;
    size_t size;
} obj;

/* Create `key` exclusively; a fixed name another test holds is retried for
 * up to 20 s (the golden names are shared by the HTTP and gRPC cases). */
static void obj_make_named(obj *o, const char *key, size_t size)
{
    (void)snprintf(o->key, sizeof o->key, "%s", key);
    int fd = -1;
    for (int i = 0; i < 400 && fd < 0; i++) {
        fd = shm_open(o->key, O_RDWR | O_CREAT | O_EXCL, 0600);
        if (fd < 0 && errno == EEXIST) {
            struct timespec ts = {0, 50 * 1000 * 1000}; /* the interval of this bounded poll */
            nanosleep(&ts, NULL);
        } else if (fd < 0) {
            break;
        }
    }
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)size), 0);
    o->p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    assert_true(o->p != MAP_FAILED);
    close(fd);
    o->size = size;
}

static void obj_make(obj *o, const char *tag, size_t size)
{
    char key[80];
    snprintf(key, sizeof key, "/tc-it-shm-%d-%s", (int)getpid(), tag);
    obj_make_named(o, key, size);
}

static void obj_free(obj *o)
{
    munmap(o->p, o->size);
    assert_int_equal(shm_unlink(o->key), 0);
}

static void fill_simple(uint8_t *in)
{
    for (int32_t i = 0; i < 16; i++) {
        int32_t one = 1;
        memcpy(in + 4 * i, &i, 4);
        memcpy(in + 64 + 4 * i, &one, 4);
    }
}

static void check_simple(const uint8_t *out)
{
    for (int32_t i = 0; i < 16; i++) {
        int32_t sum, diff;
        memcpy(&sum, out + 4 * i, 4);
        memcpy(&diff, out + 64 + 4 * i, 4);
        assert_int_equal(sum, i + 1);
        assert_int_equal(diff, i - 1);
    }
}

/* ---- fixtures ------------------------------------------------------------------------------ */

static int start(void **state, const char *const *args)
{
    fixture *f = calloc(1, sizeof *f);
    if (tc_test_server_start(&f->server, TC_MODELS_DIR, args) != 0 ||
        tc_grpc_raw_connect(&f->conn, f->server.grpc_port) != 0) {
        if (f->server.pid > 0)
            tc_test_server_stop(&f->server);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int setup(void **state)
{
    static const char *const args[] = {"--allow-client-shm=true", NULL};
    setenv("TC_CUDART_PATH", "/nonexistent/libcudart.so", 1); /* no GPU, deterministic */
    return start(state, args);
}

static int setup_disabled(void **state)
{
    return start(state, NULL);
}

static int setup_explicit(void **state)
{
    static const char *const args[] = {"--allow-client-shm=true", "--model-control-mode=explicit",
                                       "--load-model=simple", NULL};
    return start(state, args);
}

static int setup_cuda(void **state)
{
    static const char *const args[] = {"--allow-client-shm=true", NULL};
    setenv("TC_CUDART_PATH", TC_FAKE_CUDART, 1);
    return start(state, args);
}

static int teardown(void **state)
{
    fixture *f = *state;
    tc_grpc_raw_close(f->conn);
    int rc = tc_test_server_stop(&f->server);
    free(f);
    assert_int_equal(rc, 0);
    return 0;
}

static int port(void **state)
{
    return ((fixture *)*state)->server.http_port;
}

static int metrics_port(void **state)
{
    int p = tc_test_server_metrics_port(&((fixture *)*state)->server);
    assert_true(p > 0);
    return p;
}

/* ---- HTTP helpers ---------------------------------------------------------------------------- */

/* POST/GET and check the status; the body (static) for further checks. */
static const char *http(void **state, const char *method, const char *path, const char *body,
                        int want)
{
    static char out[8192];
    tc_http_reply r;
    assert_int_equal(
        tc_http_request(port(state), method, path, NULL, body, body != NULL ? strlen(body) : 0, &r),
        0);
    snprintf(out, sizeof out, "%s", r.body != NULL ? (const char *)r.body : "");
    if (r.status != want)
        fail_msg("%s %s -> %d (want %d): %s", method, path, r.status, want, out);
    tc_http_reply_free(&r);
    return out;
}

static void http_error(void **state, const char *method, const char *path, const char *body,
                       int want, const char *msg)
{
    const char *got = http(state, method, path, body, want);
    if (msg != NULL && strstr(got, msg) == NULL)
        fail_msg("%s: expected '%s' in %s", path, msg, got);
}

static void reg_system(void **state, const char *name, const char *key, uint64_t offset,
                       uint64_t size, int want)
{
    char path[256], body[256];
    snprintf(path, sizeof path, "/v2/systemsharedmemory/region/%s/register", name);
    snprintf(body, sizeof body, "{\"key\":\"%s\",\"offset\":%llu,\"byte_size\":%llu}", key,
             (unsigned long long)offset, (unsigned long long)size);
    http(state, "POST", path, body, want);
}

/* ---- HTTP: registration ---------------------------------------------------------------------- */

static void http_register_status_unregister(void **state)
{
    obj a;
    obj_make(&a, "a", 8192);
    reg_system(state, "r1", a.key, 4096, 128, 200);
    reg_system(state, "r0", a.key, 0, 64, 200);
    const char *st = http(state, "GET", "/v2/systemsharedmemory/status", NULL, 200);
    char want[512];
    snprintf(want, sizeof want,
             "[{\"name\":\"r0\",\"key\":\"%s\",\"offset\":0,\"byte_size\":64},"
             "{\"name\":\"r1\",\"key\":\"%s\",\"offset\":4096,\"byte_size\":128}]",
             a.key, a.key);
    assert_string_equal(st, want);
    st = http(state, "GET", "/v2/systemsharedmemory/region/r1/status", NULL, 200);
    assert_non_null(strstr(st, "\"offset\":4096"));
    assert_string_equal(http(state, "GET", "/v2/cudasharedmemory/status", NULL, 200), "[]");
    http_error(state, "GET", "/v2/cudasharedmemory/region/r1/status", NULL, 404,
               "The region named 'r1' is registered as system shared memory, not CUDA shared "
               "memory");
    http_error(state, "GET", "/v2/systemsharedmemory/region/zz/status", NULL, 404,
               "Unable to find system shared memory region: 'zz'");
    http_error(state, "GET", "/v2/cudasharedmemory/region/zz/status", NULL, 404,
               "Unable to find cuda shared memory region: 'zz'");

    /* Duplicates, bounds, keys. */
    char body[256];
    snprintf(body, sizeof body, "{\"key\":\"%s\",\"byte_size\":16}", a.key);
    http_error(state, "POST", "/v2/systemsharedmemory/region/r1/register", body, 400,
               "shared memory region 'r1' already in manager");
    http_error(state, "POST", "/v2/systemsharedmemory/register", body, 400,
               "'region name' is necessary to register system shared memory region");
    http_error(state, "POST", "/v2/cudasharedmemory/register", "{}", 400,
               "'region name' is necessary to register cuda shared memory region");
    reg_system(state, "x", a.key, 0, 8193, 400);
    reg_system(state, "x", a.key, 8192, 1, 400);
    reg_system(state, "x", a.key, 18446744073709551615ull, 2, 400);
    reg_system(state, "x", a.key, 4, 18446744073709551615ull, 400);
    http_error(state, "POST", "/v2/systemsharedmemory/region/x/register",
               "{\"key\":\"/tc-it-no-such-object\",\"byte_size\":16}", 500,
               "Unable to open shared memory region: '/tc-it-no-such-object'");
    const char *bad_keys[] = {"", "/", "/a/b", "../x", "/triton_python_backend_shm_region_7"};
    for (size_t i = 0; i < sizeof bad_keys / sizeof bad_keys[0]; i++)
        reg_system(state, "x", bad_keys[i], 0, 1, 400);

    /* Bodies. */
    const char *p = "/v2/systemsharedmemory/region/x/register";
    http_error(state, "POST", p, NULL, 400, "failed to parse the request JSON buffer");
    http_error(state, "POST", p, "{\"key\":\"/k\",\"byte_size\":1} x", 400, "failed to parse");
    http_error(state, "POST", p, "[1]", 400, "failed to parse");
    http_error(state, "POST", p, "{\"byte_size\":1}", 400,
               "Shared memory register request has no 'key' field");
    http_error(state, "POST", p, "{\"key\":\"/k\"}", 400,
               "Shared memory register request has no 'byte_size' field");
    http_error(state, "POST", p, "{\"key\":7,\"byte_size\":1}", 500, "Unable to parse 'key'");
    http_error(state, "POST", p, "{\"key\":\"/k\",\"byte_size\":1.5}", 500,
               "Unable to parse 'byte_size'");
    http_error(state, "POST", p, "{\"key\":\"/k\",\"byte_size\":\"1\"}", 500,
               "Unable to parse 'byte_size'");
    http_error(state, "POST", p, "{\"key\":\"/k\",\"offset\":-1,\"byte_size\":1}", 500,
               "Unable to parse 'offset'");

    /* CUDA without a GPU, and handles that are not 64 bytes. */
    const char *cp = "/v2/cudasharedmemory/region/c/register";
    http_error(
        state, "POST", cp,
        "{\"raw_handle\":{\"b64\":\"" /* 64 zero bytes */
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="
        "\"},\"device_id\":0,\"byte_size\":16}",
        400, "failed to register CUDA shared memory region: 'c', GPUs not supported");
    http_error(state, "POST", cp,
               "{\"raw_handle\":{\"b64\":\"AAAA\"},\"device_id\":0,\"byte_size\":16}", 400,
               "'raw_handle' must be a valid base64 encoded cudaIpcMemHandle_t");
    http_error(state, "POST", cp,
               "{\"raw_handle\":{\"b64\":\"!!!!\"},\"device_id\":0,\"byte_size\":16}", 400,
               "'raw_handle' must be a valid base64 encoded cudaIpcMemHandle_t");
    http_error(state, "POST", cp, "{\"device_id\":0,\"byte_size\":16}", 400, "'raw_handle'");
    http_error(state, "POST", cp, "{\"raw_handle\":{},\"device_id\":0,\"byte_size\":16}", 500,
               "'b64'");
    http_error(state, "POST", cp, "{\"raw_handle\":{\"b64\":\"AAAA\"},\"byte_size\":16}", 500,
               "'device_id'");

    /* Unregister: unknown is fine, the other kind is untouched, all. */
    http(state, "POST", "/v2/systemsharedmemory/region/nope/unregister", NULL, 200);
    http(state, "POST", "/v2/cudasharedmemory/unregister", NULL, 200);
    http(state, "POST", "/v2/systemsharedmemory/region/r0/unregister", NULL, 200);
    st = http(state, "GET", "/v2/systemsharedmemory/status", NULL, 200);
    assert_null(strstr(st, "\"r0\""));
    assert_non_null(strstr(st, "\"r1\""));
    http(state, "POST", "/v2/systemsharedmemory/unregister", NULL, 200);
    assert_string_equal(http(state, "GET", "/v2/systemsharedmemory/status", NULL, 200), "[]");
    reg_system(state, "r1", a.key, 0, 64, 200); /* the name is free again */
    obj_free(&a);
}

static void http_disabled(void **state)
{
    http_error(state, "POST", "/v2/systemsharedmemory/region/r/register",
               "{\"key\":\"/k\",\"byte_size\":1}", 501, DISABLED);
    http_error(state, "POST", "/v2/systemsharedmemory/unregister", NULL, 501, DISABLED);
    http_error(state, "POST", "/v2/cudasharedmemory/region/r/register", "{}", 501, DISABLED);
    http_error(state, "POST", "/v2/cudasharedmemory/region/r/unregister", NULL, 501, DISABLED);
    assert_string_equal(http(state, "GET", "/v2/systemsharedmemory/status", NULL, 200), "[]");
    assert_string_equal(http(state, "GET", "/v2/cudasharedmemory/status", NULL, 200), "[]");
    const char *meta = http(state, "GET", "/v2", NULL, 200);
    assert_non_null(strstr(meta, "\"system_shared_memory\""));
    assert_non_null(strstr(meta, "\"cuda_shared_memory\""));
}

/* ---- HTTP: inference ---------------------------------------------------------------------------
 */

static const char *simple_body(char *buf, size_t cap, const char *in, uint64_t off0, uint64_t size0,
                               const char *out, uint64_t out_off, uint64_t out_size)
{
    snprintf(buf, cap,
             "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"INT32\","
             "\"parameters\":{\"shared_memory_region\":\"%s\",\"shared_memory_byte_size\":%llu,"
             "\"shared_memory_offset\":%llu}},"
             "{\"name\":\"INPUT1\",\"shape\":[1,16],\"datatype\":\"INT32\","
             "\"parameters\":{\"shared_memory_region\":\"%s\",\"shared_memory_byte_size\":64,"
             "\"shared_memory_offset\":64}}],"
             "\"outputs\":[{\"name\":\"OUTPUT0\",\"parameters\":{\"shared_memory_region\":\"%s\","
             "\"shared_memory_byte_size\":%llu,\"shared_memory_offset\":%llu}},"
             "{\"name\":\"OUTPUT1\",\"parameters\":{\"shared_memory_region\":\"%s\","
             "\"shared_memory_byte_size\":64,\"shared_memory_offset\":%llu}}]}",
             in, (unsigned long long)size0, (unsigned long long)off0, in, out,
             (unsigned long long)out_size, (unsigned long long)out_off, out,
             (unsigned long long)(out_off + 64));
    return buf;
}

static void http_infer_bounds(void **state)
{
    obj in, out;
    obj_make(&in, "in", 128);
    obj_make(&out, "out", 256);
    fill_simple(in.p);
    reg_system(state, "in", in.key, 0, 128, 200);
    reg_system(state, "out", out.key, 0, 256, 200);
    char body[2048];
    const char *p = "/v2/models/simple/infer";
    const char *resp =
        http(state, "POST", p, simple_body(body, sizeof body, "in", 0, 64, "out", 128, 64), 200);
    check_simple(out.p + 128);
    assert_null(strstr(resp, "\"data\"")); /* outputs in shm carry no data */
    assert_non_null(strstr(resp, "\"shape\":[1,16]"));

    http_error(state, "POST", p, simple_body(body, sizeof body, "in", 128, 64, "out", 0, 64), 400,
               "Invalid offset for shared memory region: 'in'");
    http_error(state, "POST", p, simple_body(body, sizeof body, "in", 96, 64, "out", 0, 64), 400,
               "Invalid offset + byte size for shared memory region: 'in'");
    http_error(state, "POST", p,
               simple_body(body, sizeof body, "in", 18446744073709551615ull, 64, "out", 0, 64), 400,
               "Invalid offset for shared memory region: 'in'");
    http_error(state, "POST", p,
               simple_body(body, sizeof body, "in", 64, 18446744073709551615ull, "out", 0, 64), 400,
               "Invalid offset + byte size for shared memory region: 'in'");
    http_error(state, "POST", p, simple_body(body, sizeof body, "other", 0, 64, "out", 0, 64), 404,
               "Unable to find shared memory region: 'other'");
    http_error(state, "POST", p, simple_body(body, sizeof body, "in", 0, 64, "out", 200, 64), 400,
               "Invalid offset + byte size for shared memory region: 'out'");
    http_error(state, "POST", p, simple_body(body, sizeof body, "in", 0, 64, "out", 0, 32), 500,
               "shared memory size specified with the request for output 'OUTPUT0' (32 bytes) "
               "should be at least 64 bytes to hold the results");
    http_error(state, "POST", p, simple_body(body, sizeof body, "in", 0, 60, "out", 0, 64), 400,
               "input byte size mismatch");

    /* Outputs over their own inputs. */
    reg_system(state, "in2", in.key, 0, 128, 200);
    http(state, "POST", p, simple_body(body, sizeof body, "in", 0, 64, "in2", 0, 64), 200);
    check_simple(in.p);

    /* BYTES: a length prefix whose bytes run past the window. */
    uint32_t len5 = 5, len100 = 100;
    memcpy(out.p, &len5, 4);
    memcpy(out.p + 4, "hello", 5);
    memcpy(out.p + 9, &len100, 4);
#define BYTES_BODY(n)                                                                              \
    "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,2],\"datatype\":\"BYTES\",\"parameters\":"     \
    "{\"shared_memory_region\":\"out\",\"shared_memory_byte_size\":" #n "}}]}"
    http_error(state, "POST", "/v2/models/simple_identity/infer", BYTES_BODY(20), 400,
               "incomplete string length indicator");
    http_error(state, "POST", "/v2/models/simple_identity/infer", BYTES_BODY(11), 400,
               "incomplete string length indicator");
    snprintf(body, sizeof body,
             "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,1],\"datatype\":\"BYTES\","
             "\"parameters\":{\"shared_memory_region\":\"out\",\"shared_memory_byte_size\":9}}],"
             "\"outputs\":[{\"name\":\"OUTPUT0\",\"parameters\":{\"shared_memory_region\":\"out\","
             "\"shared_memory_byte_size\":16,\"shared_memory_offset\":128}}]}");
    http(state, "POST", "/v2/models/simple_identity/infer", body, 200);
    assert_memory_equal(out.p + 128, "\x05\0\0\0hello", 9);
    http(state, "POST", "/v2/systemsharedmemory/unregister", NULL, 200);
    obj_free(&in);
    obj_free(&out);
}

/* Send a request on a new connection without reading the answer. */
static int send_only(int p, const char *method, const char *path, const char *body)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)p);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    char head[512];
    int n =
        snprintf(head, sizeof head,
                 "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n",
                 method, path, strlen(body));
    assert_int_equal(send(fd, head, (size_t)n, 0), n);
    assert_int_equal(send(fd, body, strlen(body), 0), (ssize_t)strlen(body));
    return fd;
}

/* Read until close (at most 20 s); the status code. */
static int read_status(int fd, char *buf, size_t cap)
{
    size_t used = 0;
    for (;;) {
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, 20000) <= 0 || used >= cap - 1)
            break;
        ssize_t r = recv(fd, buf + used, cap - 1 - used, 0);
        if (r <= 0)
            break;
        used += (size_t)r;
    }
    buf[used] = '\0';
    close(fd);
    int status = 0;
    return sscanf(buf, "HTTP/1.1 %d", &status) == 1 ? status : -1;
}

/* custom_identity_int32 whose dynamic batcher holds a request in the queue
 * for 2 s before it runs (for 800 ms): while it is held, the request has its
 * regions bound and has not touched them, and the pending count says so. */
#define SLOW_IDENTITY                                                                              \
    "{\"parameters\":{\"config\":\"{\\\"name\\\":\\\"custom_identity_int32\\\",\\\"backend\\\":"   \
    "\\\"tritonc_identity\\\",\\\"max_batch_size\\\":1024,\\\"dynamic_batching\\\":{"              \
    "\\\"max_queue_delay_microseconds\\\":2000000},\\\"input\\\":[{\\\"name\\\":"                  \
    "\\\"INPUT0\\\",\\\"data_type\\\":\\\"TYPE_INT32\\\",\\\"dims\\\":[-1]}],\\\"output\\\":[{"    \
    "\\\"name\\\":\\\"OUTPUT0\\\",\\\"data_type\\\":\\\"TYPE_INT32\\\",\\\"dims\\\":[-1]}],"       \
    "\\\"parameters\\\":{\\\"execute_delay_ms\\\":{\\\"string_value\\\":\\\"800\\\"}}}\"}}"

#define PENDING_IDENTITY                                                                           \
    "nv_inference_pending_request_count{model=\"custom_identity_int32\",version=\"1\"}"

/* The request just sent reached the server and is held in the queue. */
static void wait_held(void **state)
{
    assert_int_equal(tc_test_wait_pending(metrics_port(state), "custom_identity_int32", 1, 20000),
                     0);
}

/* ... and still is: what was done since happened before it ran. */
static void assert_still_held(void **state)
{
    double pending = 0;
    assert_int_equal(tc_test_metric(metrics_port(state), PENDING_IDENTITY, &pending), 0);
    assert_int_equal((int)pending, 1);
}

#define IDENTITY_SHM_BODY                                                                          \
    "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"INT32\",\"parameters\":"    \
    "{\"shared_memory_region\":\"in\",\"shared_memory_byte_size\":64}}],\"outputs\":[{\"name\":"   \
    "\"OUTPUT0\",\"parameters\":{\"shared_memory_region\":\"out\",\"shared_memory_byte_size\":64}" \
    "}]}"

/* Unregistering while a request is in flight (held in the queue, its
 * regions bound) succeeds at once; the request still reads and writes its
 * regions. */
static void http_unregister_during_inference(void **state)
{
    http(state, "POST", "/v2/repository/models/custom_identity_int32/load", SLOW_IDENTITY, 200);
    obj o;
    obj_make(&o, "slow", 8192);
    for (int32_t i = 0; i < 16; i++)
        memcpy(o.p + 4 * i, &i, 4);
    reg_system(state, "in", o.key, 0, 4096, 200);
    reg_system(state, "out", o.key, 4096, 4096, 200);
    int fd =
        send_only(port(state), "POST", "/v2/models/custom_identity_int32/infer", IDENTITY_SHM_BODY);
    wait_held(state);
    http(state, "POST", "/v2/systemsharedmemory/unregister", NULL, 200);
    assert_still_held(state);
    assert_string_equal(http(state, "GET", "/v2/systemsharedmemory/status", NULL, 200), "[]");
    http_error(state, "POST", "/v2/models/simple/infer",
               "{\"inputs\":[{\"name\":\"INPUT0\",\"shape\":[1,16],\"datatype\":\"INT32\","
               "\"parameters\":{\"shared_memory_region\":\"in\",\"shared_memory_byte_size\":64}},"
               "{\"name\":\"INPUT1\",\"shape\":[1,16],\"datatype\":\"INT32\",\"parameters\":{"
               "\"shared_memory_region\":\"in\",\"shared_memory_byte_size\":64}}]}",
               404, "Unable to find shared memory region: 'in'");
    reg_system(state, "in", o.key, 0, 64, 200); /* re-registering the name works */
    static char buf[4096];
    assert_int_equal(read_status(fd, buf, sizeof buf), 200);
    assert_memory_equal(o.p + 4096, o.p, 64);
    http(state, "POST", "/v2/systemsharedmemory/unregister", NULL, 200);
    obj_free(&o);
}

/* ---- HTTP: the golden client run ------------------------------------------------------------ */

static char *golden_body(const char *dir, const char *file)
{
    char path[512];
    snprintf(path, sizeof path, "%s%s", dir, file);
    size_t len = 0;
    uint8_t *b = tc_test_read_file(path, &len);
    if (b == NULL)
        return NULL;
    char *s = realloc(b, len + 1);
    s[len] = '\0';
    return s;
}

static void http_golden_replay(void **state)
{
    char *b3 = golden_body(HTTP_GOLDEN, "0003.request.body.bin");
    char *b4 = golden_body(HTTP_GOLDEN, "0004.request.body.bin");
    char *b5 = golden_body(HTTP_GOLDEN, "0005.request.body.bin");
    if (b3 == NULL || b4 == NULL || b5 == NULL) {
        free(b3), free(b4), free(b5);
        skip();
    }
    obj in, out;
    obj_make_named(&in, "/input_simple", 128);
    obj_make_named(&out, "/output_simple", 128);
    fill_simple(in.p);
    http(state, "POST", "/v2/systemsharedmemory/unregister", NULL, 200);
    http(state, "POST", "/v2/cudasharedmemory/unregister", NULL, 200);
    http(state, "POST", "/v2/systemsharedmemory/region/output_data/register", b3, 200);
    http(state, "POST", "/v2/systemsharedmemory/region/input_data/register", b4, 200);
    http(state, "POST", "/v2/models/simple/infer", b5, 200);
    check_simple(out.p);
    const char *st = http(state, "GET", "/v2/systemsharedmemory/status", NULL, 200);
    assert_string_equal(st, "[{\"name\":\"input_data\",\"key\":\"/input_simple\",\"offset\":0,"
                            "\"byte_size\":128},{\"name\":\"output_data\",\"key\":"
                            "\"/output_simple\",\"offset\":0,\"byte_size\":128}]");
    http(state, "POST", "/v2/systemsharedmemory/unregister", NULL, 200);
    free(b3), free(b4), free(b5);
    obj_free(&in);
    obj_free(&out);
}

/* ---- HTTP: CUDA through the stand-in runtime ---------------------------------------------------
 */

static void http_cuda_stand_in(void **state)
{
    obj dev;
    obj_make(&dev, "dev", 4096);
    fill_simple(dev.p);
    uint8_t h[64] = {0};
    memcpy(h, "TCFAKEIPC:", 10);
    memcpy(h + 10, dev.key, strnlen(dev.key, 53));
    tc__buf b64 = TC__BUF_INIT;
    assert_int_equal(tc__base64_encode(h, sizeof h, &b64), TC_OK);
    char body[512];
    snprintf(body, sizeof body,
             "{\"raw_handle\":{\"b64\":\"%.*s\"},\"device_id\":0,\"byte_size\":4096}", (int)b64.len,
             (const char *)b64.data);
    tc__buf_cleanup(&b64);
    http(state, "POST", "/v2/cudasharedmemory/region/gpu/register", body, 200);
    http_error(state, "POST", "/v2/cudasharedmemory/region/gpu/register", body, 400,
               "already in manager");
    assert_string_equal(http(state, "GET", "/v2/cudasharedmemory/status", NULL, 200),
                        "[{\"name\":\"gpu\",\"device_id\":0,\"byte_size\":4096}]");
    http_error(state, "GET", "/v2/systemsharedmemory/region/gpu/status", NULL, 404,
               "The region named 'gpu' is registered as CUDA shared memory, not system shared "
               "memory");
    char req[2048];
    http(state, "POST", "/v2/models/simple/infer",
         simple_body(req, sizeof req, "gpu", 0, 64, "gpu", 1024, 64), 200);
    check_simple(dev.p + 1024);
    http(state, "POST", "/v2/cudasharedmemory/region/gpu/unregister", NULL, 200);
    assert_string_equal(http(state, "GET", "/v2/cudasharedmemory/status", NULL, 200), "[]");
    obj_free(&dev);
}

/* ---- gRPC --------------------------------------------------------------------------------------
 */

static tc_grpc_raw_reply grpc(void **state, const char *rpc, const ProtobufCMessage *m, int want)
{
    size_t len = m != NULL ? protobuf_c_message_get_packed_size(m) : 0;
    uint8_t *buf = malloc(len + 1);
    if (m != NULL)
        protobuf_c_message_pack(m, buf);
    size_t flen;
    uint8_t *frame = tc_grpc_raw_frame(buf, len, &flen);
    free(buf);
    char path[128];
    snprintf(path, sizeof path, SVC "%s", rpc);
    tc_grpc_raw_reply r;
    assert_int_equal(tc_grpc_raw_call(((fixture *)*state)->conn, path, NULL, frame, flen, &r), 0);
    free(frame);
    if (r.grpc_status != want)
        fail_msg("%s -> %d '%s' (want %d)", rpc, r.grpc_status, r.grpc_message, want);
    return r;
}

static void grpc_expect(void **state, const char *rpc, const ProtobufCMessage *m, int want,
                        const char *msg)
{
    tc_grpc_raw_reply r = grpc(state, rpc, m, want);
    if (msg != NULL && strstr(r.grpc_message, msg) == NULL)
        fail_msg("%s: expected '%s' in '%s'", rpc, msg, r.grpc_message);
    tc_grpc_raw_reply_free(&r);
}

static void grpc_reg(void **state, const char *name, const char *key, uint64_t off, uint64_t size,
                     int want, const char *msg)
{
    Inference__SystemSharedMemoryRegisterRequest m =
        INFERENCE__SYSTEM_SHARED_MEMORY_REGISTER_REQUEST__INIT;
    m.name = (char *)name;
    m.key = (char *)key;
    m.offset = off;
    m.byte_size = size;
    grpc_expect(state, "SystemSharedMemoryRegister", &m.base, want, msg);
}

static Inference__SystemSharedMemoryStatusResponse *grpc_status(void **state, const char *name,
                                                                int want)
{
    Inference__SystemSharedMemoryStatusRequest m =
        INFERENCE__SYSTEM_SHARED_MEMORY_STATUS_REQUEST__INIT;
    m.name = (char *)name;
    tc_grpc_raw_reply r = grpc(state, "SystemSharedMemoryStatus", &m.base, want);
    Inference__SystemSharedMemoryStatusResponse *s = NULL;
    if (want == 0) {
        assert_int_equal(r.count, 1);
        s = inference__system_shared_memory_status_response__unpack(NULL, r.lens[0], r.msgs[0]);
        assert_non_null(s);
    }
    tc_grpc_raw_reply_free(&r);
    return s;
}

static void grpc_unregister(void **state, bool cuda, const char *name, int want)
{
    Inference__SystemSharedMemoryUnregisterRequest m =
        INFERENCE__SYSTEM_SHARED_MEMORY_UNREGISTER_REQUEST__INIT;
    m.name = (char *)name;
    /* Both unregister requests are {string name = 1}: the same bytes. */
    grpc_expect(state, cuda ? "CudaSharedMemoryUnregister" : "SystemSharedMemoryUnregister",
                &m.base, want, NULL);
}

static void grpc_register_status_unregister(void **state)
{
    obj a;
    obj_make(&a, "g", 8192);
    grpc_reg(state, "r1", a.key, 4096, 100, 0, NULL);
    grpc_reg(state, "r1", a.key, 0, 100, 6, "shared memory region 'r1' already in manager");
    grpc_reg(state, "x", a.key, 0, 8193, 3, "invalid args");
    grpc_reg(state, "x", a.key, 18446744073709551615ull, 2, 3, "invalid args");
    grpc_reg(state, "x", "/a/b", 0, 1, 3, NULL);
    grpc_reg(state, "x", "", 0, 1, 3, NULL);
    grpc_reg(state, "x", "/tc-it-no-such-object", 0, 1, 13, "Unable to open shared memory region");
    grpc_reg(state, "", a.key, 0, 1, 3, "'region name' is necessary");

    Inference__SystemSharedMemoryStatusResponse *s = grpc_status(state, "", 0);
    assert_int_equal(s->n_regions, 1);
    assert_string_equal(s->regions[0]->key, "r1");
    assert_string_equal(s->regions[0]->value->name, "r1");
    assert_string_equal(s->regions[0]->value->key, a.key);
    assert_int_equal(s->regions[0]->value->offset, 4096);
    assert_int_equal(s->regions[0]->value->byte_size, 100);
    inference__system_shared_memory_status_response__free_unpacked(s, NULL);
    s = grpc_status(state, "r1", 0);
    assert_int_equal(s->n_regions, 1);
    inference__system_shared_memory_status_response__free_unpacked(s, NULL);
    grpc_status(state, "zz", 5);

    Inference__CudaSharedMemoryStatusRequest cs =
        INFERENCE__CUDA_SHARED_MEMORY_STATUS_REQUEST__INIT;
    cs.name = "r1";
    grpc_expect(state, "CudaSharedMemoryStatus", &cs.base, 5,
                "registered as system shared memory, not CUDA shared memory");
    cs.name = "";
    tc_grpc_raw_reply r = grpc(state, "CudaSharedMemoryStatus", &cs.base, 0);
    assert_int_equal(r.count, 1);
    assert_int_equal(r.lens[0], 0); /* an empty map */
    tc_grpc_raw_reply_free(&r);

    Inference__CudaSharedMemoryRegisterRequest cr =
        INFERENCE__CUDA_SHARED_MEMORY_REGISTER_REQUEST__INIT;
    uint8_t handle[64] = {0};
    cr.name = "c";
    cr.raw_handle.data = handle;
    cr.raw_handle.len = sizeof handle;
    cr.byte_size = 16;
    grpc_expect(state, "CudaSharedMemoryRegister", &cr.base, 3,
                "failed to register CUDA shared memory region: 'c', GPUs not supported");

    grpc_unregister(state, false, "nope", 0);
    grpc_unregister(state, true, "", 0);
    grpc_unregister(state, false, "r1", 0);
    s = grpc_status(state, "", 0);
    assert_int_equal(s->n_regions, 0);
    inference__system_shared_memory_status_response__free_unpacked(s, NULL);
    grpc_reg(state, "r1", a.key, 0, 64, 0, NULL);
    grpc_unregister(state, false, "", 0);
    obj_free(&a);
}

static void grpc_disabled(void **state)
{
    grpc_reg(state, "r", "/k", 0, 1, 12, DISABLED);
    grpc_unregister(state, false, "", 12);
    grpc_unregister(state, true, "r", 12);
    Inference__CudaSharedMemoryRegisterRequest cr =
        INFERENCE__CUDA_SHARED_MEMORY_REGISTER_REQUEST__INIT;
    grpc_expect(state, "CudaSharedMemoryRegister", &cr.base, 12, DISABLED);
    Inference__SystemSharedMemoryStatusResponse *s = grpc_status(state, "", 0);
    assert_int_equal(s->n_regions, 0);
    inference__system_shared_memory_status_response__free_unpacked(s, NULL);
}

/* A ModelInfer of `simple` with both inputs in `in` and outputs in `out`. */
typedef struct infer_msg {
    Inference__ModelInferRequest req;
    Inference__ModelInferRequest__InferInputTensor in[2], *inp[2];
    Inference__ModelInferRequest__InferRequestedOutputTensor out[2], *outp[2];
    Inference__ModelInferRequest__InferInputTensor__ParametersEntry ie[2][3], *iep[2][3];
    Inference__ModelInferRequest__InferRequestedOutputTensor__ParametersEntry oe[2][3], *oep[2][3];
    Inference__InferParameter iv[2][3], ov[2][3];
    int64_t shape[2];
} infer_msg;

static void set_param(Inference__InferParameter *v, const char *s, int64_t i)
{
    inference__infer_parameter__init(v);
    if (s != NULL) {
        v->parameter_choice_case = INFERENCE__INFER_PARAMETER__PARAMETER_CHOICE_STRING_PARAM;
        v->string_param = (char *)s;
    } else {
        v->parameter_choice_case = INFERENCE__INFER_PARAMETER__PARAMETER_CHOICE_INT64_PARAM;
        v->int64_param = i;
    }
}

static void infer_msg_init(infer_msg *m, const char *model, const char *in, int64_t off0,
                           const char *out, int64_t out_off, int64_t out_size)
{
    memset(m, 0, sizeof *m);
    inference__model_infer_request__init(&m->req);
    m->req.model_name = (char *)model;
    m->shape[0] = 1;
    m->shape[1] = 16;
    static const char *const keys[3] = {"shared_memory_region", "shared_memory_byte_size",
                                        "shared_memory_offset"};
    for (int k = 0; k < 2; k++) {
        Inference__ModelInferRequest__InferInputTensor *t = &m->in[k];
        inference__model_infer_request__infer_input_tensor__init(t);
        t->name = k == 0 ? "INPUT0" : "INPUT1";
        t->datatype = "INT32";
        t->n_shape = 2;
        t->shape = m->shape;
        Inference__ModelInferRequest__InferRequestedOutputTensor *o = &m->out[k];
        inference__model_infer_request__infer_requested_output_tensor__init(o);
        o->name = k == 0 ? "OUTPUT0" : "OUTPUT1";
        for (int j = 0; j < 3; j++) {
            inference__model_infer_request__infer_input_tensor__parameters_entry__init(
                &m->ie[k][j]);
            inference__model_infer_request__infer_requested_output_tensor__parameters_entry__init(
                &m->oe[k][j]);
            m->ie[k][j].key = (char *)keys[j];
            m->oe[k][j].key = (char *)keys[j];
            m->ie[k][j].value = &m->iv[k][j];
            m->oe[k][j].value = &m->ov[k][j];
            m->iep[k][j] = &m->ie[k][j];
            m->oep[k][j] = &m->oe[k][j];
        }
        set_param(&m->iv[k][0], in, 0);
        set_param(&m->iv[k][1], NULL, 64);
        set_param(&m->iv[k][2], NULL, k == 0 ? off0 : 64);
        set_param(&m->ov[k][0], out, 0);
        set_param(&m->ov[k][1], NULL, k == 0 ? out_size : 64);
        set_param(&m->ov[k][2], NULL, out_off + 64 * k);
        t->n_parameters = 3;
        t->parameters = m->iep[k];
        o->n_parameters = 3;
        o->parameters = m->oep[k];
        m->inp[k] = t;
        m->outp[k] = o;
    }
    m->req.n_inputs = 2;
    m->req.inputs = m->inp;
    m->req.n_outputs = 2;
    m->req.outputs = m->outp;
}

static void grpc_infer_bounds(void **state)
{
    obj in, out;
    obj_make(&in, "gin", 128);
    obj_make(&out, "gout", 256);
    fill_simple(in.p);
    grpc_reg(state, "in", in.key, 0, 128, 0, NULL);
    grpc_reg(state, "out", out.key, 0, 256, 0, NULL);
    infer_msg m;
    infer_msg_init(&m, "simple", "in", 0, "out", 128, 64);
    tc_grpc_raw_reply r = grpc(state, "ModelInfer", &m.req.base, 0);
    assert_int_equal(r.count, 1);
    Inference__ModelInferResponse *resp =
        inference__model_infer_response__unpack(NULL, r.lens[0], r.msgs[0]);
    assert_non_null(resp);
    assert_int_equal(resp->n_outputs, 2);
    assert_int_equal(resp->n_raw_output_contents, 2); /* one empty entry per output */
    assert_int_equal(resp->raw_output_contents[0].len, 0);
    assert_int_equal(resp->raw_output_contents[1].len, 0);
    inference__model_infer_response__free_unpacked(resp, NULL);
    tc_grpc_raw_reply_free(&r);
    check_simple(out.p + 128);

    infer_msg_init(&m, "simple", "in", 128, "out", 0, 64);
    grpc_expect(state, "ModelInfer", &m.req.base, 3,
                "Invalid offset for shared memory region: 'in'");
    infer_msg_init(&m, "simple", "in", 96, "out", 0, 64);
    grpc_expect(state, "ModelInfer", &m.req.base, 3,
                "Invalid offset + byte size for shared memory region: 'in'");
    infer_msg_init(&m, "simple", "in", INT64_MAX, "out", 0, 64);
    grpc_expect(state, "ModelInfer", &m.req.base, 3, "Invalid offset for shared memory region");
    infer_msg_init(&m, "simple", "nope", 0, "out", 0, 64);
    grpc_expect(state, "ModelInfer", &m.req.base, 5, "Unable to find shared memory region: 'nope'");
    infer_msg_init(&m, "simple", "in", 0, "out", 0, 16);
    grpc_expect(state, "ModelInfer", &m.req.base, 13,
                "shared memory size specified with the request for output 'OUTPUT0' (16 bytes) "
                "should be at least 64 bytes to hold the results");
    /* Overlapping: outputs written over the inputs. */
    grpc_reg(state, "in2", in.key, 0, 128, 0, NULL);
    infer_msg_init(&m, "simple", "in", 0, "in2", 0, 64);
    r = grpc(state, "ModelInfer", &m.req.base, 0);
    tc_grpc_raw_reply_free(&r);
    check_simple(in.p);
    grpc_unregister(state, false, "", 0);
    obj_free(&in);
    obj_free(&out);
}

static void grpc_unregister_during_inference(void **state)
{
    http(state, "POST", "/v2/repository/models/custom_identity_int32/load", SLOW_IDENTITY, 200);
    obj o;
    obj_make(&o, "gslow", 8192);
    for (int32_t i = 0; i < 16; i++)
        memcpy(o.p + 4 * i, &i, 4);
    grpc_reg(state, "in", o.key, 0, 4096, 0, NULL);
    grpc_reg(state, "out", o.key, 4096, 4096, 0, NULL);
    infer_msg m;
    infer_msg_init(&m, "custom_identity_int32", "in", 0, "out", 0, 64);
    m.req.n_inputs = 1;
    m.req.n_outputs = 1;
    size_t len = protobuf_c_message_get_packed_size(&m.req.base);
    uint8_t *buf = malloc(len);
    protobuf_c_message_pack(&m.req.base, buf);
    size_t flen;
    uint8_t *frame = tc_grpc_raw_frame(buf, len, &flen);
    free(buf);
    tc_grpc_raw *c = ((fixture *)*state)->conn;
    int32_t sid = tc_grpc_raw_start(c, SVC "ModelInfer", NULL);
    assert_true(sid > 0);
    assert_int_equal(tc_grpc_raw_send(c, sid, frame, flen, true), 0);
    free(frame);
    wait_held(state);
    grpc_unregister(state, false, "", 0);
    assert_still_held(state);
    Inference__SystemSharedMemoryStatusResponse *s = grpc_status(state, "", 0);
    assert_int_equal(s->n_regions, 0);
    inference__system_shared_memory_status_response__free_unpacked(s, NULL);
    tc_grpc_raw_reply r;
    assert_int_equal(tc_grpc_raw_wait(c, sid, 0, 20000, &r), 0);
    assert_int_equal(r.grpc_status, 0);
    tc_grpc_raw_reply_free(&r);
    assert_memory_equal(o.p + 4096, o.p, 64);
    obj_free(&o);
}

static void grpc_golden_replay(void **state)
{
    static const char *const calls[][2] = {
        {"0001.SystemSharedMemoryUnregister", "SystemSharedMemoryUnregister"},
        {"0002.CudaSharedMemoryUnregister", "CudaSharedMemoryUnregister"},
        {"0003.SystemSharedMemoryRegister", "SystemSharedMemoryRegister"},
        {"0004.SystemSharedMemoryRegister", "SystemSharedMemoryRegister"},
        {"0005.ModelInfer", "ModelInfer"},
        {"0006.SystemSharedMemoryStatus", "SystemSharedMemoryStatus"},
        {"0007.SystemSharedMemoryUnregister", "SystemSharedMemoryUnregister"},
    };
    obj in, out;
    obj_make_named(&in, "/input_simple", 128);
    obj_make_named(&out, "/output_simple", 128);
    fill_simple(in.p);
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, GRPC_GOLDEN "%s.request.pb", calls[i][0]);
        size_t len = 0;
        uint8_t *msg = tc_test_read_file(path, &len);
        assert_non_null(msg);
        size_t flen;
        uint8_t *frame = tc_grpc_raw_frame(msg, len, &flen);
        char rpc[128];
        snprintf(rpc, sizeof rpc, SVC "%s", calls[i][1]);
        tc_grpc_raw_reply r;
        assert_int_equal(tc_grpc_raw_call(((fixture *)*state)->conn, rpc, NULL, frame, flen, &r),
                         0);
        if (r.grpc_status != 0)
            fail_msg("%s -> %d '%s'", calls[i][0], r.grpc_status, r.grpc_message);
        assert_int_equal(r.count, 1);
        if (i == 4)
            check_simple(out.p);
        if (i == 5) {
            Inference__SystemSharedMemoryStatusResponse *s =
                inference__system_shared_memory_status_response__unpack(NULL, r.lens[0], r.msgs[0]);
            assert_non_null(s);
            assert_int_equal(s->n_regions, 2);
            inference__system_shared_memory_status_response__free_unpacked(s, NULL);
        }
        tc_grpc_raw_reply_free(&r);
        free(frame);
        free(msg);
    }
    obj_free(&in);
    obj_free(&out);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(http_register_status_unregister, setup, teardown),
    cmocka_unit_test_setup_teardown(http_disabled, setup_disabled, teardown),
    cmocka_unit_test_setup_teardown(http_infer_bounds, setup, teardown),
    cmocka_unit_test_setup_teardown(http_unregister_during_inference, setup_explicit, teardown),
    cmocka_unit_test_setup_teardown(http_golden_replay, setup, teardown),
    cmocka_unit_test_setup_teardown(http_cuda_stand_in, setup_cuda, teardown),
    cmocka_unit_test_setup_teardown(grpc_register_status_unregister, setup, teardown),
    cmocka_unit_test_setup_teardown(grpc_disabled, setup_disabled, teardown),
    cmocka_unit_test_setup_teardown(grpc_infer_bounds, setup, teardown),
    cmocka_unit_test_setup_teardown(grpc_unregister_during_inference, setup_explicit, teardown),
    cmocka_unit_test_setup_teardown(grpc_golden_replay, setup, teardown),
};

TC_TEST_MAIN(tests)
