/* Over gRPC, send two INT32 tensors to model `simple` through CUDA shared memory: a
 * device buffer for the inputs and one for the outputs (cudaMalloc on
 * device 0), their IPC handles registered as input_data and output_data,
 * inference, the results copied back from the device and checked, status,
 * unregister. The server must run with --allow-client-shm=true on a
 * machine with that GPU.
 * Without a CUDA runtime or device this prints "CUDA not available,
 * skipping: <reason>" and "SKIP", and exits 0 (upstream's example would
 * fail instead; a skip keeps CPU-only test runs green).
 * Usage: simple_grpc_cudashm_client [-u host:port] [-v] */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* getopt */
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tritonc/tritonc.h>

#define TENSOR_BYTES (16 * sizeof(int32_t))

static tc_cuda_shm_region *g_in;
static tc_cuda_shm_region *g_out;

static void log_to_stderr(tc_log_level level, const char *message, void *user_data)
{
    (void)level;
    (void)user_data;
    fprintf(stderr, "%s\n", message);
}

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "error: %s: %s\n", what, detail);
    tc_cuda_shm_region_free(g_in);
    tc_cuda_shm_region_free(g_out);
    exit(1);
}

static tc_client *connect_client(const char *url, bool verbose)
{
    tc_grpc_options *opts = NULL;
    tc_client *client = NULL;
    if (tc_grpc_options_new(&opts) != TC_OK || tc_grpc_options_set_verbose(opts, verbose) != TC_OK)
        die("options", "cannot create");
    if (tc_grpc_client_new(&client, url, opts) != TC_OK)
        die("unable to create client", url);
    tc_grpc_options_free(opts);
    return client;
}

static void register_region(tc_client *client, const char *name, const tc_cuda_shm_region *r)
{
    uint8_t handle[TC_CUDA_IPC_HANDLE_SIZE];
    if (tc_cuda_shm_region_ipc_handle(r, handle) != TC_OK)
        die("ipc handle", tc_shm_last_error());
    if (tc_client_cuda_shm_register(client, name, handle, tc_cuda_shm_region_device_id(r),
                                    tc_cuda_shm_region_byte_size(r), NULL) != TC_OK)
        die("register", tc_client_last_error(client));
}

static void check(const int32_t *in0, const int32_t *in1)
{
    int32_t out[32];
    if (tc_cuda_shm_region_read(g_out, 0, out, sizeof out) != TC_OK)
        die("copy from device", tc_shm_last_error());
    for (size_t i = 0; i < 16; i++) {
        printf("%d + %d = %d\n", in0[i], in1[i], out[i]);
        printf("%d - %d = %d\n", in0[i], in1[i], out[16 + i]);
        if (out[i] != in0[i] + in1[i] || out[16 + i] != in0[i] - in1[i])
            die("result", "incorrect result");
    }
}

static tc_request *build_request(void)
{
    const int64_t shape[2] = {1, 16};
    tc_request *req = NULL;
    if (tc_request_new(&req, "simple") != TC_OK ||
        tc_request_add_input(req, "INPUT0", TC_DTYPE_INT32, shape, 2) != TC_OK ||
        tc_request_add_input(req, "INPUT1", TC_DTYPE_INT32, shape, 2) != TC_OK ||
        tc_request_input_set_shm(req, "INPUT0", "input_data", TENSOR_BYTES, 0) != TC_OK ||
        tc_request_input_set_shm(req, "INPUT1", "input_data", TENSOR_BYTES, TENSOR_BYTES) !=
            TC_OK ||
        tc_request_add_output(req, "OUTPUT0") != TC_OK ||
        tc_request_add_output(req, "OUTPUT1") != TC_OK ||
        tc_request_output_set_shm(req, "OUTPUT0", "output_data", TENSOR_BYTES, 0) != TC_OK ||
        tc_request_output_set_shm(req, "OUTPUT1", "output_data", TENSOR_BYTES, TENSOR_BYTES) !=
            TC_OK)
        die("request", "cannot build");
    return req;
}

int main(int argc, char **argv)
{
    const char *url = "localhost:8001";
    bool verbose = false;
    int opt;
    while ((opt = getopt(argc, argv, "u:v")) != -1) {
        if (opt == 'u')
            url = optarg;
        else if (opt == 'v')
            verbose = true;
        else
            die("usage", "simple_grpc_cudashm_client [-u host:port] [-v]");
    }
    if (verbose)
        tc_set_log_callback(log_to_stderr, TC_LOG_VERBOSE, NULL);
    int devices = 0;
    if (tc_cuda_device_count(&devices) != TC_OK) {
        printf("CUDA not available, skipping: %s\n", tc_shm_last_error());
        printf("SKIP: cuda shared memory\n");
        return 0;
    }
    tc_client *client = connect_client(url, verbose);
    if (tc_client_system_shm_unregister(client, NULL, NULL) != TC_OK ||
        tc_client_cuda_shm_unregister(client, NULL, NULL) != TC_OK)
        die("unregister", tc_client_last_error(client));

    int32_t in[32];
    for (int32_t i = 0; i < 16; i++) {
        in[i] = i;
        in[16 + i] = 1;
    }
    if (tc_cuda_shm_region_new(&g_out, 2 * TENSOR_BYTES, 0) != TC_OK ||
        tc_cuda_shm_region_new(&g_in, 2 * TENSOR_BYTES, 0) != TC_OK ||
        tc_cuda_shm_region_write(g_in, 0, in, sizeof in) != TC_OK)
        die("CUDA region", tc_shm_last_error());
    register_region(client, "output_data", g_out);
    register_region(client, "input_data", g_in);

    tc_request *req = build_request();
    tc_result *r = NULL;
    if (tc_client_infer(client, req, &r) != TC_OK)
        die("inference failed", tc_client_last_error(client));
    tc_result_free(r);
    tc_request_free(req);
    check(in, in + 16);

    tc_shm_status *st = NULL;
    if (tc_client_cuda_shm_status(client, NULL, NULL, &st) != TC_OK)
        die("status", tc_client_last_error(client));
    for (size_t i = 0; i < tc_shm_status_count(st); i++)
        printf("region %s: device %lld, byte_size %llu\n", tc_shm_status_name(st, i),
               (long long)tc_shm_status_device_id(st, i),
               (unsigned long long)tc_shm_status_byte_size(st, i));
    tc_shm_status_free(st);
    if (tc_client_cuda_shm_unregister(client, NULL, NULL) != TC_OK)
        die("unregister", tc_client_last_error(client));
    tc_cuda_shm_region_free(g_in);
    tc_cuda_shm_region_free(g_out);
    g_in = NULL;
    g_out = NULL;
    if (tc_client_free(client) != TC_OK)
        die("client", "cannot free");
    printf("PASS: cuda shared memory\n");
    return 0;
}
