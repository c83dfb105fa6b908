/* image_client: classify images with a model served by Triton or
 * tritonc-server, with the flags and the output of upstream's Python
 * image_client. Usage: see ic_usage() in options.c.
 *
 * Output, per response (in request order):
 *     Request N, batch size B
 *         <score> (<class index>) = <label>     (classes per image, images in order)
 * then "PASS". Any error prints a message on stderr and exits 1. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tritonc/tritonc.h>

#include "batch.h"
#include "model.h"
#include "options.h"
#include "preprocess.h"

typedef struct ic_run ic_run;

/* One request in flight: where its callback stores the result. */
typedef struct ic_slot {
    ic_run *run;
    size_t index;
} ic_slot;

struct ic_run {
    ic_options opt;
    ic_model model;
    tc_client *client;
    char **paths;
    size_t image_count;
    uint8_t **tensors; /* one preprocessed image each, borrowed by the requests */
    size_t tensor_size;
    size_t request_count;
    tc_request **requests;
    tc_result **results; /* by request index; written under `mu` in async modes */
    ic_slot *slots;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t done;
};

static void log_to_stderr(tc_log_level level, const char *message, void *user_data)
{
    (void)level;
    (void)user_data;
    fprintf(stderr, "%s\n", message);
}

static int fail(const char *what, const char *detail)
{
    fprintf(stderr, "%s%s\n", what, detail != NULL ? detail : "");
    return -1;
}

static int connect_client(ic_run *run)
{
    tc_code rc;
    if (run->opt.protocol == IC_PROTOCOL_GRPC) {
#ifdef IC_HAVE_GRPC
        tc_grpc_options *go = NULL;
        rc = tc_grpc_options_new(&go);
        if (rc == TC_OK)
            rc = tc_grpc_options_set_verbose(go, run->opt.verbose);
        if (rc == TC_OK)
            rc = tc_grpc_client_new(&run->client, run->opt.url, go);
        tc_grpc_options_free(go);
#else
        return fail("client creation failed: ", "this build of libtritonc has no gRPC client");
#endif
    } else {
        tc_http_options *ho = NULL;
        rc = tc_http_options_new(&ho);
        if (rc == TC_OK)
            rc = tc_http_options_set_verbose(ho, run->opt.verbose);
        /* Upstream's HTTP client runs 20 async requests at once. */
        if (rc == TC_OK)
            rc = tc_http_options_set_max_connections(ho, 20);
        if (rc == TC_OK)
            rc = tc_http_client_new(&run->client, run->opt.url, ho);
        tc_http_options_free(ho);
    }
    if (rc != TC_OK)
        return fail("client creation failed: ", tc_code_str(rc));
    return 0;
}

/* Metadata and config, checked as upstream's parse_model(). */
static int load_model(ic_run *run)
{
    tc_model_metadata *meta = NULL;
    char *config = NULL;
    char err[512];
    int ret = -1;
    const char *m = run->opt.model_name;
    if (tc_client_model_metadata(run->client, m, run->opt.model_version, NULL, &meta) != TC_OK)
        return fail("failed to retrieve the metadata: ", tc_client_last_error(run->client));
    if (tc_client_model_config(run->client, m, run->opt.model_version, NULL, &config) != TC_OK) {
        fail("failed to retrieve the config: ", tc_client_last_error(run->client));
        goto out;
    }
    ic_tensor_desc in[2] = {{0}};
    ic_tensor_desc outs[2] = {{0}};
    size_t ni = tc_model_metadata_input_count(meta);
    size_t no = tc_model_metadata_output_count(meta);
    for (size_t i = 0; i < ni && i < 2; i++)
        tc_model_metadata_input(meta, i, &in[i].name, &in[i].dtype, &in[i].shape, &in[i].ndim);
    for (size_t i = 0; i < no && i < 2; i++)
        tc_model_metadata_output(meta, i, &outs[i].name, &outs[i].dtype, &outs[i].shape,
                                 &outs[i].ndim);
    if (ic_model_parse(m, config, in, ni, outs, no, &run->model, err, sizeof err) != 0) {
        fail(err, NULL);
        goto out;
    }
    ret = 0;
out:
    tc_string_free(config);
    tc_model_metadata_free(meta);
    return ret;
}

static int preprocess_all(ic_run *run)
{
    char err[512];
    const ic_model *md = &run->model;
    if (ic_list_images(run->opt.image_path, &run->paths, &run->image_count, err, sizeof err) != 0)
        return fail(err, NULL);
    run->tensors = calloc(run->image_count, sizeof *run->tensors);
    if (run->tensors == NULL)
        return fail("out of memory", NULL);
    for (size_t i = 0; i < run->image_count; i++) {
        if (ic_preprocess_file(run->paths[i], md->channels, md->height, md->width, md->format,
                               run->opt.scaling, md->input_dtype, &run->tensors[i],
                               &run->tensor_size, err, sizeof err) != 0)
            return fail(err, NULL);
    }
    return 0;
}

/* Request i holds images i*B .. i*B+B-1 (wrapping to the first ones). */
static tc_code build_request(ic_run *run, size_t index, tc_request **out)
{
    const ic_model *md = &run->model;
    size_t b = run->opt.batch_size;
    int64_t shape[4];
    size_t nd = 0;
    if (md->max_batch_size > 0)
        shape[nd++] = (int64_t)b;
    bool chw = md->format == IC_FORMAT_NCHW;
    shape[nd++] = (int64_t)(chw ? md->channels : md->height);
    shape[nd++] = (int64_t)(chw ? md->height : md->width);
    shape[nd++] = (int64_t)(chw ? md->width : md->channels);
    char id[32];
    snprintf(id, sizeof id, "%zu", index + 1);
    tc_request *req = NULL;
    tc_code rc = tc_request_new(&req, run->opt.model_name);
    if (rc == TC_OK)
        rc = tc_request_set_model_version(req, run->opt.model_version);
    if (rc == TC_OK)
        rc = tc_request_set_id(req, id);
    if (rc == TC_OK)
        rc = tc_request_add_input(req, md->input_name, md->input_dtype, shape, nd);
    for (size_t s = 0; rc == TC_OK && s < b; s++) {
        size_t img = ic_batch_image(index, s, b, run->image_count);
        rc = tc_request_input_append(req, md->input_name, run->tensors[img], run->tensor_size,
                                     TC_BORROW);
    }
    if (rc == TC_OK)
        rc = tc_request_add_output(req, md->output_name);
    if (rc == TC_OK)
        rc = tc_request_output_set_class_count(req, md->output_name, (uint32_t)run->opt.classes);
    if (rc != TC_OK) {
        tc_request_free(req);
        return rc;
    }
    *out = req;
    return TC_OK;
}

static void store_result(ic_run *run, size_t index, tc_result *result)
{
    pthread_mutex_lock(&run->mu);
    if (index < run->request_count && run->results[index] == NULL)
        run->results[index] = result;
    else
        tc_result_free(result); /* unknown or duplicate id */
    run->done++;
    pthread_cond_broadcast(&run->cv);
    pthread_mutex_unlock(&run->mu);
}

/* Runs on the client's I/O thread, once per request. */
static void on_infer_done(tc_result *result, void *user_data)
{
    ic_slot *slot = user_data;
    store_result(slot->run, slot->index, result);
}

static int send_sync(ic_run *run)
{
    for (size_t i = 0; i < run->request_count; i++) {
        tc_result *r = NULL;
        if (tc_client_infer(run->client, run->requests[i], &r) != TC_OK) {
            tc_result_free(r);
            return fail("inference failed: ", tc_client_last_error(run->client));
        }
        run->results[i] = r;
    }
    return 0;
}

/* Every request queued before any result is awaited, so they overlap. */
static int send_async(ic_run *run)
{
    size_t queued = 0;
    int ret = 0;
    for (size_t i = 0; i < run->request_count; i++) {
        run->slots[i].run = run;
        run->slots[i].index = i;
        if (tc_client_infer_async(run->client, run->requests[i], on_infer_done, &run->slots[i]) !=
            TC_OK) {
            ret = fail("inference failed: ", tc_client_last_error(run->client));
            break;
        }
        queued++;
    }
    pthread_mutex_lock(&run->mu);
    while (run->done < queued)
        pthread_cond_wait(&run->cv, &run->mu);
    pthread_mutex_unlock(&run->mu);
    return ret;
}

#ifdef IC_HAVE_GRPC
/* Stream callback: responses carry the request id ("1".."N"). */
static void on_stream_response(tc_stream *stream, tc_result *result, bool final, void *user_data)
{
    (void)stream;
    (void) final;
    ic_run *run = user_data;
    if (result == NULL)
        return; /* the end; tc_stream_stop() reports its status */
    char *end = NULL;
    unsigned long long id = strtoull(tc_result_id(result), &end, 10);
    size_t index = end != NULL && *end == '\0' && id > 0 ? (size_t)(id - 1) : SIZE_MAX;
    store_result(run, index, result);
}

static int send_stream(ic_run *run)
{
    tc_stream *stream = NULL;
    if (tc_client_stream_start(run->client, on_stream_response, run, NULL, &stream) != TC_OK)
        return fail("inference failed: ", tc_client_last_error(run->client));
    int ret = 0;
    for (size_t i = 0; i < run->request_count && ret == 0; i++) {
        tc_code rc = tc_stream_send(stream, run->requests[i]);
        if (rc != TC_OK)
            ret = fail("inference failed: ", tc_stream_error_message(stream)[0] != '\0'
                                                 ? tc_stream_error_message(stream)
                                                 : tc_code_str(rc));
    }
    /* A half-close: the server answers everything queued, then ends the stream. */
    tc_code end = tc_stream_stop(stream, ret != 0);
    if (ret == 0 && end != TC_OK)
        ret = fail("inference failed: ", tc_stream_error_message(stream));
    tc_stream_free(stream);
    return ret;
}
#else
static int send_stream(ic_run *run)
{
    (void)run;
    return fail("inference failed: ", "this build of libtritonc has no gRPC streams");
}
#endif

/* Print one response as upstream's postprocess() does. */
static int print_result(ic_run *run, size_t index)
{
    tc_result *r = run->results[index];
    const char *out = run->model.output_name;
    if (r == NULL)
        return fail("inference failed: ", "no response for a request");
    if (tc_result_status(r) != TC_OK)
        return fail("inference failed: ", tc_result_error_message(r));
    size_t count = 0;
    const int64_t *shape = NULL;
    size_t nd = 0;
    if (tc_result_output_bytes_count(r, out, &count) != TC_OK ||
        tc_result_output_shape(r, out, &shape, &nd) != TC_OK)
        return fail("unexpected response: no classification output ", out);
    size_t b = run->opt.batch_size;
    if (run->model.max_batch_size > 0 && (nd == 0 || shape[0] != (int64_t)b)) {
        fprintf(stderr, "expected %zu results, got %lld\n", b, nd > 0 ? (long long)shape[0] : 0);
        return -1;
    }
    printf("Request %s, batch size %zu\n", tc_result_id(r), b);
    for (size_t i = 0; i < count; i++) {
        const uint8_t *e = NULL;
        size_t len = 0;
        if (tc_result_output_bytes_element(r, out, i, &e, &len) != TC_OK)
            return fail("unexpected response: bad classification element", NULL);
        /* "score:index:label" split on ':' as upstream: fields 0, 1 and 2. */
        const char *f[3] = {"", "", ""};
        int fl[3] = {0, 0, 0};
        size_t field = 0;
        size_t start = 0;
        for (size_t k = 0; k <= len && field < 3; k++) {
            if (k == len || e[k] == ':') {
                f[field] = (const char *)e + start;
                fl[field] = (int)(k - start);
                field++;
                start = k + 1;
            }
        }
        if (field >= 3)
            printf("    %.*s (%.*s) = %.*s\n", fl[0], f[0], fl[1], f[1], fl[2], f[2]);
        else /* no label file: upstream would fail; print what there is */
            printf("    %.*s (%.*s)\n", fl[0], f[0], fl[1], f[1]);
    }
    return 0;
}

static int run_requests(ic_run *run)
{
    run->request_count = ic_batch_count(run->image_count, run->opt.batch_size);
    run->requests = calloc(run->request_count, sizeof *run->requests);
    run->results = calloc(run->request_count, sizeof *run->results);
    run->slots = calloc(run->request_count, sizeof *run->slots);
    if (run->requests == NULL || run->results == NULL || run->slots == NULL)
        return fail("out of memory", NULL);
    for (size_t i = 0; i < run->request_count; i++) {
        tc_code rc = build_request(run, i, &run->requests[i]);
        if (rc != TC_OK)
            return fail("cannot build the request: ", tc_code_str(rc));
    }
    int rc;
    if (run->opt.streaming)
        rc = send_stream(run);
    else if (run->opt.async)
        rc = send_async(run);
    else
        rc = send_sync(run);
    for (size_t i = 0; rc == 0 && i < run->request_count; i++)
        rc = print_result(run, i);
    return rc;
}

static int check_model_use(const ic_run *run)
{
    const char *dt = tc_dtype_name(run->model.input_dtype);
    ic_image probe = {1, 1, 1, NULL};
    if (ic_tensor_byte_size(&probe, run->model.input_dtype) == 0) {
        fprintf(stderr, "unsupported input datatype %s\n", dt != NULL ? dt : "INVALID");
        return -1;
    }
    if (run->opt.batch_size > 1 && run->model.max_batch_size == 0)
        return fail("ERROR: This model doesn't support batching.", NULL);
    if (run->model.max_batch_size > 0 && (int64_t)run->opt.batch_size > run->model.max_batch_size) {
        fprintf(stderr, "ERROR: batch size %zu exceeds the model's max_batch_size %lld\n",
                run->opt.batch_size, (long long)run->model.max_batch_size);
        return -1;
    }
    return 0;
}

static void run_cleanup(ic_run *run)
{
    /* The client goes first: async callbacks have all run once it is freed. */
    tc_client_free(run->client);
    for (size_t i = 0; i < run->request_count; i++) {
        if (run->requests != NULL)
            tc_request_free(run->requests[i]);
        if (run->results != NULL)
            tc_result_free(run->results[i]);
    }
    free(run->requests);
    free(run->results);
    free(run->slots);
    for (size_t i = 0; run->tensors != NULL && i < run->image_count; i++)
        free(run->tensors[i]);
    free(run->tensors);
    ic_paths_free(run->paths, run->image_count);
    pthread_cond_destroy(&run->cv);
    pthread_mutex_destroy(&run->mu);
}

int main(int argc, char **argv)
{
    ic_run run;
    char err[512];
    memset(&run, 0, sizeof run);
    if (ic_options_parse(argc, argv, &run.opt, err, sizeof err) != 0) {
        fprintf(stderr, "%s\nimage_client: error: %s\n", ic_usage(), err);
        return 1;
    }
    if (run.opt.help) {
        printf("%s\n", ic_usage());
        return 0;
    }
    pthread_mutex_init(&run.mu, NULL);
    pthread_cond_init(&run.cv, NULL);
    if (run.opt.verbose)
        tc_set_log_callback(log_to_stderr, TC_LOG_VERBOSE, NULL);
    int rc = connect_client(&run);
    if (rc == 0)
        rc = load_model(&run);
    if (rc == 0)
        rc = check_model_use(&run);
    if (rc == 0)
        rc = preprocess_all(&run);
    if (rc == 0)
        rc = run_requests(&run);
    if (rc == 0)
        printf("PASS\n");
    run_cleanup(&run);
    return rc == 0 ? 0 : 1;
}
