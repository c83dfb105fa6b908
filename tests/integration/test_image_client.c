/* image_client end to end: tritonc-server serves ONNX image classifiers
 * from a temporary model repository, and image_client classifies sample
 * images over HTTP and gRPC, sync, async and streaming, as upstream's
 * quick start does. Each case checks the top-1 class of every image.
 *
 * - mobilenet_v2 (../shared/models/imagenet, never copied: symlinked into
 *   the temporary repository): parrot.jpg -> 89, grace_hopper.bmp -> 653,
 *   cat.bmp -> 286, with INCEPTION scaling and 3 classes.
 * - digits_onnx (models/digits_onnx, test images in tools/digits/images):
 *   28x28 grayscale PNGs, NONE scaling, the expected classes from
 *   tools/digits/images/expected.txt.
 *
 * A case skips, saying why, when the imagenet folder is missing, when the
 * server has no backend for the model's platform yet (the repository index
 * says "unable to find backend"), or when gRPC is not served or not built.
 * So these cases start passing by themselves once the ONNX backend lands. */
#include "tc_test.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <tritonc/tritonc.h>

#include "server_proc.h"

#define IMAGE_CLIENT TC_EXAMPLES_DIR "/../tools/image_client/image_client"
#define IMAGENET_DIR TC_SHARED_DIR "/models/imagenet"
#define DIGITS_DIR   TC_MODELS_DIR "/../tools/digits"
#define MAX_PATHS    32

typedef struct fixture {
    tc_test_server server;
    bool server_up;
    char root[64];
    char paths[MAX_PATHS][512]; /* created below root, removed in reverse order */
    size_t path_count;
    char images[512]; /* folder (or file) given to image_client */
} fixture;

typedef enum model_kind { MOBILENET, DIGITS } model_kind;

static const char *const g_mobilenet_config =
    "name: \"mobilenet_v2\"\n"
    "platform: \"onnxruntime_onnx\"\n"
    "max_batch_size: 8\n"
    "input [ { name: \"input\" data_type: TYPE_FP32 format: FORMAT_NCHW dims: [ 3, 224, 224 ] } "
    "]\n"
    "output [ { name: \"probabilities\" data_type: TYPE_FP32 dims: [ 1001 ]\n"
    "           label_filename: \"imagenet_labels.txt\" } ]\n";

/* ---- temporary repository ----------------------------------------------- */

static const char *track(fixture *f, const char *rel)
{
    assert_true(f->path_count < MAX_PATHS);
    char *p = f->paths[f->path_count++];
    snprintf(p, sizeof f->paths[0], "%s/%s", f->root, rel);
    return p;
}

static void make_dir(fixture *f, const char *rel)
{
    assert_int_equal(mkdir(track(f, rel), 0700), 0);
}

static void make_link(fixture *f, const char *target, const char *rel)
{
    assert_int_equal(symlink(target, track(f, rel)), 0);
}

static void write_text(fixture *f, const char *rel, const char *text)
{
    FILE *fp = fopen(track(f, rel), "w");
    assert_non_null(fp);
    assert_int_equal(fputs(text, fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
}

static void build_mobilenet(fixture *f)
{
    make_dir(f, "repo");
    make_dir(f, "repo/mobilenet_v2");
    make_dir(f, "repo/mobilenet_v2/1");
    make_link(f, IMAGENET_DIR "/mobilenet_v2.onnx", "repo/mobilenet_v2/1/model.onnx");
    make_link(f, IMAGENET_DIR "/imagenet_labels.txt", "repo/mobilenet_v2/imagenet_labels.txt");
    write_text(f, "repo/mobilenet_v2/config.pbtxt", g_mobilenet_config);
    make_dir(f, "images");
    make_link(f, IMAGENET_DIR "/images/cat.bmp", "images/cat.bmp");
    make_link(f, IMAGENET_DIR "/images/grace_hopper.bmp", "images/grace_hopper.bmp");
    make_link(f, IMAGENET_DIR "/images/parrot.jpg", "images/parrot.jpg");
    snprintf(f->images, sizeof f->images, "%s/images", f->root);
}

static void build_digits(fixture *f)
{
    make_dir(f, "repo");
    make_dir(f, "repo/digits_onnx");
    make_dir(f, "repo/digits_onnx/1");
    make_link(f, TC_MODELS_DIR "/digits_onnx/1/model.onnx", "repo/digits_onnx/1/model.onnx");
    make_link(f, TC_MODELS_DIR "/digits_onnx/labels.txt", "repo/digits_onnx/labels.txt");
    make_link(f, TC_MODELS_DIR "/digits_onnx/config.pbtxt", "repo/digits_onnx/config.pbtxt");
    snprintf(f->images, sizeof f->images, "%s", DIGITS_DIR "/images");
}

static int teardown(void **state)
{
    fixture *f = *state;
    int rc = 0;
    if (f == NULL)
        return 0;
    if (f->server_up)
        rc = tc_test_server_stop(&f->server);
    while (f->path_count > 0) {
        const char *p = f->paths[--f->path_count];
        if (unlink(p) != 0) /* a folder */
            rmdir(p);
    }
    if (f->root[0] != '\0')
        rmdir(f->root);
    free(f);
    assert_int_equal(rc, 0);
    return 0;
}

/* ---- server --------------------------------------------------------------- */

/* Wait until the model has left LOADING; return its index entry state. */
static void model_state(int port, const char *model, char *state, size_t ssize, char *reason,
                        size_t rsize)
{
    char url[64];
    snprintf(url, sizeof url, "localhost:%d", port);
    tc_client *c = NULL;
    assert_int_equal(tc_http_client_new(&c, url, NULL), TC_OK);
    snprintf(state, ssize, "MISSING");
    reason[0] = '\0';
    for (int attempt = 0; attempt < 300; attempt++) {
        tc_repository_index *idx = NULL;
        assert_int_equal(tc_client_repository_index(c, false, NULL, &idx), TC_OK);
        for (size_t i = 0; i < tc_repository_index_count(idx); i++) {
            if (strcmp(tc_repository_index_name(idx, i), model) == 0) {
                snprintf(state, ssize, "%s", tc_repository_index_state(idx, i));
                snprintf(reason, rsize, "%s", tc_repository_index_reason(idx, i));
            }
        }
        tc_repository_index_free(idx);
        if (strcmp(state, "LOADING") != 0)
            break;
        struct timespec ts = {0, 100 * 1000 * 1000}; /* the interval of this bounded poll */
        nanosleep(&ts, NULL);
    }
    assert_int_equal(tc_client_free(c), TC_OK);
}

/* The harness stops reading the server's log at the HTTP line; the gRPC
 * line may come just after it. */
static void find_grpc_port(tc_test_server *s)
{
    static const char key[] = "Started GRPCInferenceService at ";
    char text[8192];
    size_t used = 0;
    for (int i = 0; i < 10 && s->grpc_port <= 0 && used < sizeof text - 1; i++) {
        struct pollfd pfd = {s->out_fd, POLLIN, 0};
        if (poll(&pfd, 1, 100) <= 0)
            continue;
        ssize_t r = read(s->out_fd, text + used, sizeof text - 1 - used);
        if (r <= 0)
            break;
        used += (size_t)r;
        text[used] = '\0';
        const char *p = strstr(text, key);
        const char *eol = p != NULL ? strchr(p, '\n') : NULL;
        if (eol == NULL)
            continue;
        const char *colon = eol;
        while (colon > p && *colon != ':')
            colon--;
        s->grpc_port = (int)strtol(colon + 1, NULL, 10);
    }
}

/* Build the repository, start the server, and skip unless the model is READY. */
static fixture *prepare(void **state, model_kind kind, bool grpc)
{
    struct stat st;
    if (kind == MOBILENET && stat(IMAGENET_DIR "/mobilenet_v2.onnx", &st) != 0) {
        fprintf(stderr, "SKIP: %s is missing (shared ImageNet models not installed)\n",
                IMAGENET_DIR);
        skip();
    }
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    *state = f;
    snprintf(f->root, sizeof f->root, "/tmp/tc_imgcli_XXXXXX");
    assert_non_null(mkdtemp(f->root));
    if (kind == MOBILENET)
        build_mobilenet(f);
    else
        build_digits(f);
    char repo[600];
    snprintf(repo, sizeof repo, "%s/repo", f->root);
    assert_int_equal(tc_test_server_start(&f->server, repo, NULL), 0);
    f->server_up = true;
    char mstate[64];
    char reason[1024];
    const char *model = kind == MOBILENET ? "mobilenet_v2" : "digits_onnx";
    model_state(f->server.http_port, model, mstate, sizeof mstate, reason, sizeof reason);
    if (strcmp(mstate, "READY") != 0 && strstr(reason, "unable to find backend") != NULL) {
        fprintf(stderr, "SKIP: the server cannot serve %s yet: %s\n", model, reason);
        skip();
    }
    if (strcmp(mstate, "READY") != 0)
        fail_msg("%s is %s: %s", model, mstate, reason);
    if (grpc) {
        find_grpc_port(&f->server);
        if (f->server.grpc_port <= 0) {
            fprintf(stderr, "SKIP: tritonc-server does not serve gRPC yet\n");
            skip();
        }
    }
    return f;
}

/* ---- running image_client ------------------------------------------------- */

static char *run_client(const fixture *f, const char *model_args, bool grpc, const char *mode,
                        int *status)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s %s -u localhost:%d %s %s '%s' 2>&1", IMAGE_CLIENT, model_args,
             grpc ? f->server.grpc_port : f->server.http_port, grpc ? "-i grpc" : "", mode,
             f->images);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 16;
    size_t used = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    size_t r;
    while ((r = fread(out + used, 1, cap - used - 1, p)) > 0) {
        used += r;
        if (used + 1 >= cap) {
            cap *= 2;
            out = realloc(out, cap);
            assert_non_null(out);
        }
    }
    out[used] = '\0';
    int st = pclose(p);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return out;
}

/* Top-1 class of each image in the output: the first "    score (index) =
 * label" line after each "Request" header and then every `classes` lines. */
static size_t top1_classes(const char *out, size_t classes, long *top, size_t max)
{
    size_t n = 0;
    size_t line_in_block = 0;
    for (const char *p = out; *p != '\0' && n < max;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol != NULL ? (size_t)(eol - p) : strlen(p);
        if (strncmp(p, "Request ", 8) == 0) {
            line_in_block = 0;
        } else if (len > 4 && strncmp(p, "    ", 4) == 0) {
            const char *paren = memchr(p, '(', len);
            if (line_in_block % classes == 0 && paren != NULL)
                top[n++] = strtol(paren + 1, NULL, 10);
            line_in_block++;
        }
        p = eol != NULL ? eol + 1 : p + len;
    }
    return n;
}

static void expect_run(void **state, model_kind kind, bool grpc, const char *mode,
                       const char *batch, const long *want, size_t want_count)
{
    fixture *f = prepare(state, kind, grpc);
    char args[256];
    size_t classes = kind == MOBILENET ? 3 : 1;
    snprintf(args, sizeof args, "-m %s -s %s -c %zu %s",
             kind == MOBILENET ? "mobilenet_v2" : "digits_onnx",
             kind == MOBILENET ? "INCEPTION" : "NONE", classes, batch);
    int status = -1;
    char *out = run_client(f, args, grpc, mode, &status);
    if (grpc && status != 0 && strstr(out, "has no gRPC") != NULL) {
        fprintf(stderr, "SKIP: image_client was built without gRPC: %s", out);
        free(out);
        skip();
    }
    if (status != 0)
        fprintf(stderr, "image_client exited %d:\n%s\n", status, out);
    assert_int_equal(status, 0);
    long top[64];
    size_t n = top1_classes(out, classes, top, 64);
    if (n != want_count)
        fail_msg("expected %zu classified images, got %zu:\n%s", want_count, n, out);
    for (size_t i = 0; i < n; i++) {
        if (top[i] != want[i])
            fail_msg("image %zu: class %ld, expected %ld:\n%s", i, top[i], want[i], out);
    }
    assert_non_null(strstr(out, "\nPASS\n"));
    free(out);
}

/* Sorted folder: cat.bmp, grace_hopper.bmp, parrot.jpg. */
static const long g_imagenet[] = {286, 653, 89};
/* Batch 2: [cat grace] [parrot cat], padded from the start as upstream. */
static const long g_imagenet_b2[] = {286, 653, 89, 286};

static void test_mobilenet_http_sync(void **state)
{
    expect_run(state, MOBILENET, false, "", "", g_imagenet, 3);
}

static void test_mobilenet_http_async(void **state)
{
    expect_run(state, MOBILENET, false, "-a", "", g_imagenet, 3);
}

static void test_mobilenet_http_batch2(void **state)
{
    expect_run(state, MOBILENET, false, "", "-b 2", g_imagenet_b2, 4);
}

static void test_mobilenet_grpc_sync(void **state)
{
    expect_run(state, MOBILENET, true, "", "", g_imagenet, 3);
}

static void test_mobilenet_grpc_async(void **state)
{
    expect_run(state, MOBILENET, true, "-a", "-b 2", g_imagenet_b2, 4);
}

static void test_mobilenet_grpc_streaming(void **state)
{
    expect_run(state, MOBILENET, true, "--streaming", "", g_imagenet, 3);
}

/* The expected top-1 of each digit image (third column of expected.txt),
 * in file-name order, which is the order image_client sends them in. */
static size_t digits_expected(long *want, size_t max)
{
    FILE *fp = fopen(DIGITS_DIR "/images/expected.txt", "r");
    assert_non_null(fp);
    char line[256];
    size_t n = 0;
    while (fgets(line, sizeof line, fp) != NULL && n < max) {
        char name[128];
        long truth;
        long top;
        if (line[0] == '#' || sscanf(line, "%127s %ld %ld", name, &truth, &top) != 3)
            continue;
        want[n++] = top;
    }
    fclose(fp);
    assert_int_equal(n, 10);
    return n;
}

static void digits_run(void **state, bool grpc, const char *mode, const char *batch)
{
    long want[16];
    size_t n = digits_expected(want, 16);
    if (strcmp(batch, "-b 4") == 0) { /* 10 images: the third request ends with 0 and 1 */
        want[10] = want[0];
        want[11] = want[1];
        n = 12;
    }
    expect_run(state, DIGITS, grpc, mode, batch, want, n);
}

static void test_digits_http_sync(void **state)
{
    digits_run(state, false, "", "");
}

static void test_digits_http_async_batch4(void **state)
{
    digits_run(state, false, "-a", "-b 4");
}

static void test_digits_grpc_sync(void **state)
{
    digits_run(state, true, "", "-b 4");
}

static void test_digits_grpc_streaming(void **state)
{
    digits_run(state, true, "--streaming", "");
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_teardown(test_mobilenet_http_sync, teardown),
    cmocka_unit_test_teardown(test_mobilenet_http_async, teardown),
    cmocka_unit_test_teardown(test_mobilenet_http_batch2, teardown),
    cmocka_unit_test_teardown(test_mobilenet_grpc_sync, teardown),
    cmocka_unit_test_teardown(test_mobilenet_grpc_async, teardown),
    cmocka_unit_test_teardown(test_mobilenet_grpc_streaming, teardown),
    cmocka_unit_test_teardown(test_digits_http_sync, teardown),
    cmocka_unit_test_teardown(test_digits_http_async_batch4, teardown),
    cmocka_unit_test_teardown(test_digits_grpc_sync, teardown),
    cmocka_unit_test_teardown(test_digits_grpc_streaming, teardown),
};

TC_TEST_MAIN(tests)
