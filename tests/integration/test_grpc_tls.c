/* gRPC over TLS and mutual TLS: libtritonc's client against tritonc-server
 * started with --grpc-use-ssl (and --grpc-use-ssl-mutual). Certificates are
 * made at test time with the `openssl` command line in a temporary
 * directory: a test CA, a server certificate for localhost / 127.0.0.1
 * (subjectAltName), a client certificate, and a second CA that signs
 * nothing we trust. Every case skips with a message when `openssl` is
 * missing. Each case starts its own server on ephemeral ports. */
#define _GNU_SOURCE /* strcasestr */
#include "tc_test.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <tritonc/tritonc.h>

#include "server_proc.h"

typedef struct fixture {
    char dir[64];
    char path[8][256];
    tc_test_server server;
    bool started;
} fixture;

enum { CA, CA_KEY, SERVER_CERT, SERVER_KEY, CLIENT_CERT, CLIENT_KEY, OTHER_CA, ROGUE_CERT };
static const char *const g_names[] = {"ca.pem",     "ca.key",     "server.pem", "server.key",
                                      "client.pem", "client.key", "other-ca.pem", "rogue.pem"};

static const char g_config[] = "[req]\n"
                               "distinguished_name = dn\n"
                               "prompt = no\n"
                               "[dn]\n"
                               "CN = tritonc test\n"
                               "[v3_ca]\n"
                               "basicConstraints = critical,CA:TRUE\n"
                               "keyUsage = critical,keyCertSign,cRLSign\n"
                               "subjectKeyIdentifier = hash\n"
                               "[server]\n"
                               "basicConstraints = CA:FALSE\n"
                               "subjectAltName = DNS:localhost,IP:127.0.0.1\n"
                               "extendedKeyUsage = serverAuth\n"
                               "[client]\n"
                               "basicConstraints = CA:FALSE\n"
                               "extendedKeyUsage = clientAuth\n";

/* The openssl commands, run in the fixture's directory. */
static const char g_script[] =
    "set -e\n"
    "K='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes'\n"
    "openssl req -config tls.cnf -x509 $K -keyout ca.key -out ca.pem -days 2 "
    "-extensions v3_ca -subj '/CN=tritonc test CA'\n"
    "openssl req -config tls.cnf -x509 $K -keyout other-ca.key -out other-ca.pem -days 2 "
    "-extensions v3_ca -subj '/CN=tritonc other CA'\n"
    "openssl req -config tls.cnf -new $K -keyout server.key -out server.csr -subj /CN=localhost\n"
    "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial 2 -days 2 "
    "-extfile tls.cnf -extensions server -out server.pem\n"
    "openssl req -config tls.cnf -new $K -keyout client.key -out client.csr "
    "-subj '/CN=tritonc test client'\n"
    "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -set_serial 3 -days 2 "
    "-extfile tls.cnf -extensions client -out client.pem\n"
    "openssl x509 -req -in client.csr -CA other-ca.pem -CAkey other-ca.key -set_serial 4 "
    "-days 2 -extfile tls.cnf -extensions client -out rogue.pem\n";

static bool have_openssl(void)
{
    return system("openssl version >/dev/null 2>&1") == 0;
}

static int make_certs(fixture *f)
{
    snprintf(f->dir, sizeof f->dir, "/tmp/tc_tls_XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    for (size_t i = 0; i < sizeof g_names / sizeof g_names[0]; i++)
        snprintf(f->path[i], sizeof f->path[i], "%s/%s", f->dir, g_names[i]);
    char file[128];
    snprintf(file, sizeof file, "%s/tls.cnf", f->dir);
    FILE *cnf = fopen(file, "w");
    if (cnf == NULL)
        return -1;
    fputs(g_config, cnf);
    fclose(cnf);
    snprintf(file, sizeof file, "%s/make.sh", f->dir);
    FILE *sh = fopen(file, "w");
    if (sh == NULL)
        return -1;
    fputs(g_script, sh);
    fclose(sh);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "cd %s && sh make.sh >make.log 2>&1 || { cat make.log >&2; exit 1; }",
             f->dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void remove_certs(fixture *f)
{
    if (f->dir[0] == '\0')
        return;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", f->dir);
}

/* Certificates, then the server with TLS (`mutual`: client certificates
 * required) or without (`tls` false). */
static int start(void **state, bool tls, bool mutual)
{
    fixture *f = calloc(1, sizeof *f);
    *state = f;
    if (!have_openssl())
        return 0; /* each case skips */
    if (make_certs(f) != 0)
        return -1;
    char a[5][300];
    const char *args[8] = {NULL};
    size_t n = 0;
    if (tls) {
        args[n++] = "--grpc-use-ssl=true";
        snprintf(a[0], sizeof a[0], "--grpc-server-cert=%s", f->path[SERVER_CERT]);
        snprintf(a[1], sizeof a[1], "--grpc-server-key=%s", f->path[SERVER_KEY]);
        args[n++] = a[0];
        args[n++] = a[1];
        if (mutual) {
            args[n++] = "--grpc-use-ssl-mutual=true";
            snprintf(a[2], sizeof a[2], "--grpc-root-cert=%s", f->path[CA]);
            args[n++] = a[2];
        }
    }
    if (tc_test_server_start(&f->server, TC_MODELS_DIR, args) != 0 || f->server.grpc_port <= 0)
        return -1;
    f->started = true;
    return 0;
}

static int setup_tls(void **state)
{
    return start(state, true, false);
}

static int setup_mutual(void **state)
{
    return start(state, true, true);
}

static int setup_plain(void **state)
{
    return start(state, false, false);
}

static int teardown(void **state)
{
    fixture *f = *state;
    int rc = f->started ? tc_test_server_stop(&f->server) : 0;
    remove_certs(f);
    free(f);
    assert_int_equal(rc, 0);
    return 0;
}

#define NEED_OPENSSL(f)                                                                            \
    do {                                                                                           \
        if (!(f)->started) {                                                                       \
            fprintf(stderr, "SKIP: the openssl command line tool is not installed\n");            \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

typedef struct client_cfg {
    const char *url_host; /* default "localhost" */
    bool grpcs;           /* "grpcs://" instead of tc_grpc_options_set_tls() */
    const char *root;     /* root certificates, NULL = the system's */
    const char *cert;
    const char *key;
    const char *name_override;
    bool no_verify;
} client_cfg;

static tc_client *new_client(const fixture *f, const client_cfg *cfg)
{
    char url[128];
    snprintf(url, sizeof url, "%s%s:%d", cfg->grpcs ? "grpcs://" : "",
             cfg->url_host != NULL ? cfg->url_host : "localhost", f->server.grpc_port);
    tc_grpc_options *o = NULL;
    assert_int_equal(tc_grpc_options_new(&o), TC_OK);
    if (!cfg->grpcs)
        assert_int_equal(tc_grpc_options_set_tls(o, true), TC_OK);
    if (cfg->root != NULL)
        assert_int_equal(tc_grpc_options_set_root_certificates(o, cfg->root), TC_OK);
    if (cfg->cert != NULL)
        assert_int_equal(tc_grpc_options_set_client_cert(o, cfg->cert, cfg->key), TC_OK);
    if (cfg->name_override != NULL)
        assert_int_equal(
            tc_grpc_options_set_channel_arg_str(o, "grpc.ssl_target_name_override",
                                                cfg->name_override),
            TC_OK);
    if (cfg->no_verify)
        assert_int_equal(tc_grpc_options_set_verify_peer(o, false), TC_OK);
    assert_int_equal(tc_grpc_options_set_connect_timeout_us(o, 10u * 1000 * 1000), TC_OK);
    assert_int_equal(tc_grpc_options_set_network_timeout_us(o, 20u * 1000 * 1000), TC_OK);
    tc_client *c = NULL;
    assert_int_equal(tc_grpc_client_new(&c, url, o), TC_OK);
    tc_grpc_options_free(o);
    return c;
}

/* The first call fails with TC_E_TRANSPORT; the error names `needle`
 * (case-insensitive) when it is not NULL. */
static void expect_transport_failure(tc_client *c, const char *needle)
{
    bool live = false;
    tc_code rc = tc_client_is_server_live(c, NULL, &live);
    const char *msg = tc_client_last_error(c);
    fprintf(stderr, "expected failure: %s: %s\n", tc_code_name(rc), msg != NULL ? msg : "");
    assert_int_equal(rc, TC_E_TRANSPORT);
    assert_false(live);
    if (needle != NULL) {
        assert_non_null(msg);
        assert_non_null(strcasestr(msg, needle));
    }
}

/* ---- one request of each kind ---------------------------------------------------- */

static int32_t g_in0[16];
static int32_t g_in1[16];

static tc_request *simple_request(void)
{
    for (int i = 0; i < 16; i++) {
        g_in0[i] = i;
        g_in1[i] = 1;
    }
    const int64_t shape[2] = {1, 16};
    tc_request *req = NULL;
    assert_int_equal(tc_request_new(&req, "simple"), TC_OK);
    assert_int_equal(tc_request_add_input(req, "INPUT0", TC_DTYPE_INT32, shape, 2), TC_OK);
    assert_int_equal(tc_request_add_input(req, "INPUT1", TC_DTYPE_INT32, shape, 2), TC_OK);
    assert_int_equal(tc_request_input_append(req, "INPUT0", g_in0, sizeof g_in0, TC_BORROW), TC_OK);
    assert_int_equal(tc_request_input_append(req, "INPUT1", g_in1, sizeof g_in1, TC_BORROW), TC_OK);
    assert_int_equal(tc_request_add_output(req, "OUTPUT0"), TC_OK);
    assert_int_equal(tc_request_add_output(req, "OUTPUT1"), TC_OK);
    return req;
}

static void check_simple(const tc_result *res)
{
    assert_int_equal(tc_result_status(res), TC_OK);
    const uint8_t *data = NULL;
    size_t size = 0;
    assert_int_equal(tc_result_output_data(res, "OUTPUT0", &data, &size), TC_OK);
    assert_int_equal(size, 64);
    for (int i = 0; i < 16; i++)
        assert_int_equal(((const int32_t *)data)[i], i + 1);
    assert_int_equal(tc_result_output_data(res, "OUTPUT1", &data, &size), TC_OK);
    for (int i = 0; i < 16; i++)
        assert_int_equal(((const int32_t *)data)[i], i - 1);
}

typedef struct async_state {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done;
    int ok;
} async_state;

static void on_result(tc_result *res, void *user_data)
{
    async_state *st = user_data;
    bool good = tc_result_status(res) == TC_OK;
    if (good) {
        const uint8_t *data = NULL;
        size_t size = 0;
        good = tc_result_output_data(res, "OUTPUT0", &data, &size) == TC_OK && size == 64 &&
               ((const int32_t *)data)[15] == 16;
    } else {
        fprintf(stderr, "async: %s\n", tc_result_error_message(res));
    }
    pthread_mutex_lock(&st->lock);
    st->done++;
    st->ok += good;
    pthread_cond_signal(&st->cond);
    pthread_mutex_unlock(&st->lock);
    tc_result_free(res);
}

#define ASYNC_N 16

static void infer_async(tc_client *c)
{
    async_state st = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    tc_request *req = simple_request();
    for (int i = 0; i < ASYNC_N; i++)
        assert_int_equal(tc_client_infer_async(c, req, on_result, &st), TC_OK);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30;
    pthread_mutex_lock(&st.lock);
    while (st.done < ASYNC_N) {
        if (pthread_cond_timedwait(&st.cond, &st.lock, &until) != 0)
            break;
    }
    pthread_mutex_unlock(&st.lock);
    assert_int_equal(st.done, ASYNC_N);
    assert_int_equal(st.ok, ASYNC_N);
    tc_request_free(req);
}

static void infer_sync(tc_client *c)
{
    tc_request *req = simple_request();
    tc_result *res = NULL;
    assert_int_equal(tc_client_infer(c, req, &res), TC_OK);
    check_simple(res);
    tc_result_free(res);
    tc_request_free(req);
}

typedef struct stream_log {
    pthread_mutex_t mu;
    int responses;
    int errors;
    int ends;
    tc_code end_status;
    int32_t sum;
} stream_log;

static void on_stream(tc_stream *s, tc_result *r, bool final, void *ud)
{
    (void)final;
    stream_log *l = ud;
    pthread_mutex_lock(&l->mu);
    if (r == NULL) {
        l->ends++;
        l->end_status = tc_stream_status(s);
    } else if (tc_result_status(r) != TC_OK) {
        l->errors++;
    } else if (tc_result_output_count(r) > 0) {
        const uint8_t *d = NULL;
        size_t n = 0;
        if (tc_result_output_data(r, tc_result_output_name(r, 0), &d, &n) == TC_OK && n >= 4) {
            int32_t v;
            memcpy(&v, d, 4);
            l->sum += v;
        }
        l->responses++;
    }
    pthread_mutex_unlock(&l->mu);
    if (r != NULL)
        tc_result_free(r);
}

/* repeat_int32 over a bidirectional stream: 5 responses 10..14. */
static void stream_repeat(tc_client *c)
{
    bool ready = false;
    if (tc_client_is_model_ready(c, "repeat_int32", NULL, NULL, &ready) != TC_OK || !ready) {
        fprintf(stderr, "SKIP (stream part): repeat_int32 is not in the repository\n");
        return;
    }
    const int64_t len = 5;
    const int64_t one = 1;
    static const uint32_t zero = 0;
    tc_request *req = NULL;
    assert_int_equal(tc_request_new(&req, "repeat_int32"), TC_OK);
    assert_int_equal(tc_request_add_input(req, "IN", TC_DTYPE_INT32, &len, 1), TC_OK);
    assert_int_equal(tc_request_add_input(req, "DELAY", TC_DTYPE_UINT32, &len, 1), TC_OK);
    assert_int_equal(tc_request_add_input(req, "WAIT", TC_DTYPE_UINT32, &one, 1), TC_OK);
    assert_int_equal(tc_request_input_append(req, "WAIT", &zero, 4, TC_COPY), TC_OK);
    for (int i = 0; i < 5; i++) {
        int32_t v = 10 + i;
        uint32_t delay = 1;
        assert_int_equal(tc_request_input_append(req, "IN", &v, 4, TC_COPY), TC_OK);
        assert_int_equal(tc_request_input_append(req, "DELAY", &delay, 4, TC_COPY), TC_OK);
    }
    stream_log l = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, TC_OK, 0};
    tc_stream *s = NULL;
    assert_int_equal(tc_client_stream_start(c, on_stream, &l, NULL, &s), TC_OK);
    assert_int_equal(tc_stream_send(s, req), TC_OK);
    assert_int_equal(tc_stream_send(s, req), TC_OK);
    assert_int_equal(tc_stream_stop(s, false), TC_OK);
    assert_int_equal(l.ends, 1);
    assert_int_equal(l.end_status, TC_OK);
    assert_int_equal(l.errors, 0);
    assert_int_equal(l.responses, 10);
    assert_int_equal(l.sum, 2 * (10 + 11 + 12 + 13 + 14));
    tc_stream_free(s);
    tc_request_free(req);
}

static void health_and_metadata(tc_client *c)
{
    bool b = false;
    assert_int_equal(tc_client_is_server_live(c, NULL, &b), TC_OK);
    assert_true(b);
    assert_int_equal(tc_client_is_server_ready(c, NULL, &b), TC_OK);
    assert_true(b);
    assert_int_equal(tc_client_is_model_ready(c, "simple", NULL, NULL, &b), TC_OK);
    assert_true(b);
    tc_server_metadata *sm = NULL;
    assert_int_equal(tc_client_server_metadata(c, NULL, &sm), TC_OK);
    assert_string_equal(tc_server_metadata_name(sm), "triton");
    tc_server_metadata_free(sm);
    tc_model_metadata *mm = NULL;
    assert_int_equal(tc_client_model_metadata(c, "simple", NULL, NULL, &mm), TC_OK);
    assert_string_equal(tc_model_metadata_name(mm), "simple");
    assert_int_equal(tc_model_metadata_input_count(mm), 2);
    tc_model_metadata_free(mm);
}

/* Everything a client does, over TLS: sync calls on the caller's thread
 * first, then async inference and a stream on the I/O thread, then sync
 * calls again through the I/O thread. */
static void exercise(tc_client *c)
{
    health_and_metadata(c);
    infer_sync(c);
    infer_async(c);
    stream_repeat(c);
    infer_sync(c);
    health_and_metadata(c);
}

/* ---- cases --------------------------------------------------------------------------- */

static void tls_everything(void **state)
{
    fixture *f = *state;
    NEED_OPENSSL(f);
    tc_client *c = new_client(f, &(client_cfg){.root = f->path[CA]});
    exercise(c);
    assert_int_equal(tc_client_free(c), TC_OK);
}

/* "grpcs://127.0.0.1": the IP address is checked against the IP SAN, no SNI. */
static void tls_grpcs_url_ip_address(void **state)
{
    fixture *f = *state;
    NEED_OPENSSL(f);
    tc_client *c =
        new_client(f, &(client_cfg){.url_host = "127.0.0.1", .grpcs = true, .root = f->path[CA]});
    health_and_metadata(c);
    infer_sync(c);
    assert_int_equal(tc_client_free(c), TC_OK);
}

static void tls_wrong_ca_fails(void **state)
{
    fixture *f = *state;
    NEED_OPENSSL(f);
    tc_client *c = new_client(f, &(client_cfg){.root = f->path[OTHER_CA]});
    expect_transport_failure(c, "certificate verify failed");
    /* The next call tries again and fails the same way. */
    tc_request *req = simple_request();
    tc_result *res = NULL;
    assert_int_equal(tc_client_infer(c, req, &res), TC_E_TRANSPORT);
    assert_non_null(res); /* the request was attempted: the result holds the error */
    assert_int_equal(tc_result_status(res), TC_E_TRANSPORT);
    assert_non_null(strcasestr(tc_result_error_message(res), "certificate verify failed"));
    assert_non_null(strcasestr(tc_client_last_error(c), "certificate verify failed"));
    tc_result_free(res);
    tc_request_free(req);
    assert_int_equal(tc_client_free(c), TC_OK);
}

/* No root certificates given: the system's store, which lacks the test CA. */
static void tls_system_store_rejects_test_ca(void **state)
{
    fixture *f = *state;
    NEED_OPENSSL(f);
    tc_client *c = new_client(f, &(client_cfg){0});
    expect_transport_failure(c, "certificate verify failed");
    assert_int_equal(tc_client_free(c), TC_OK);
}

static void tls_verify_off_accepts_unknown_ca(void **state)
{
    fixture *f = *state;
    NEED_OPENSSL(f);
    tc_client *c = new_client(f, &(client_cfg){.root = f->path[OTHER_CA], .no_verify = true});
    health_and_metadata(c);
    infer_sync(c);
    assert_int_equal(tc_client_free(c), TC_OK);
}

static void tls_host_name_mismatch(void **state)
{
    fixture *f = *state;
    NEED_OPENSSL(f);
    client_cfg cfg = {.root = f->path[CA], .name_override = "not-this-host.example"};
    tc_client *c = new_client(f, &cfg);
    expect_transport_failure(c, "certificate verify failed");
    assert_non_null(strcasestr(tc_client_last_error(c), "hostname mismatch"));
    assert_int_equal(tc_client_free(c), TC_OK);
    /* Verification off: the same name is accepted. */
    cfg.no_verify = true;
    c = new_client(f, &cfg);
    health_and_metadata(c);
    assert_int_equal(tc_client_free(c), TC_OK);
    /* The name override naming the certificate's host works from an IP URL. */
    c = new_client(f, &(client_cfg){.url_host = "127.0.0.1", .root = f->path[CA],
                                    .name_override = "localhost"});
    health_and_metadata(c);
    assert_int_equal(tc_client_free(c), TC_OK);
}

static void tls_missing_files(void **state)
{
    fixture *f = *state;
    NEED_OPENSSL(f);
    char missing[300];
    snprintf(missing, sizeof missing, "%s/none.pem", f->dir);
    tc_client *c = new_client(f, &(client_cfg){.root = missing});
    expect_transport_failure(c, "root certificates");
    assert_int_equal(tc_client_free(c), TC_OK);
    c = new_client(f, &(client_cfg){.root = f->path[CA], .cert = missing, .key = missing});
    expect_transport_failure(c, "client certificate");
    assert_int_equal(tc_client_free(c), TC_OK);
}

/* A TLS client against a plaintext server: a clear failure, no hang. */
static void tls_client_plain_server(void **state)
{
    fixture *f = *state;
    NEED_OPENSSL(f);
    tc_client *c = new_client(f, &(client_cfg){.root = f->path[CA]});
    expect_transport_failure(c, NULL);
    assert_int_equal(tc_client_free(c), TC_OK);
}

/* A plaintext client against the TLS server fails too (no hang). */
static void plain_client_tls_server(void **state)
{
    fixture *f = *state;
    NEED_OPENSSL(f);
    char url[64];
    snprintf(url, sizeof url, "localhost:%d", f->server.grpc_port);
    tc_grpc_options *o = NULL;
    assert_int_equal(tc_grpc_options_new(&o), TC_OK);
    assert_int_equal(tc_grpc_options_set_network_timeout_us(o, 5u * 1000 * 1000), TC_OK);
    tc_client *c = NULL;
    assert_int_equal(tc_grpc_client_new(&c, url, o), TC_OK);
    tc_grpc_options_free(o);
    bool live = false;
    tc_code rc = tc_client_is_server_live(c, NULL, &live);
    fprintf(stderr, "expected failure: %s: %s\n", tc_code_name(rc), tc_client_last_error(c));
    assert_int_not_equal(rc, TC_OK);
    assert_int_equal(tc_client_free(c), TC_OK);
    /* The server still serves TLS clients afterwards. */
    c = new_client(f, &(client_cfg){.root = f->path[CA]});
    health_and_metadata(c);
    assert_int_equal(tc_client_free(c), TC_OK);
}

static void mtls_with_client_cert(void **state)
{
    fixture *f = *state;
    NEED_OPENSSL(f);
    tc_client *c = new_client(
        f, &(client_cfg){.root = f->path[CA], .cert = f->path[CLIENT_CERT], .key = f->path[CLIENT_KEY]});
    exercise(c);
    assert_int_equal(tc_client_free(c), TC_OK);
}

/* Without a client certificate the server ends the connection: with TLS
 * 1.3 the client's handshake completes first and the server's alert
 * arrives with the first read, so the call fails with TC_E_TRANSPORT. */
static void mtls_without_client_cert(void **state)
{
    fixture *f = *state;
    NEED_OPENSSL(f);
    tc_client *c = new_client(f, &(client_cfg){.root = f->path[CA]});
    expect_transport_failure(c, NULL);
    assert_int_equal(tc_client_free(c), TC_OK);
}

static void mtls_client_cert_from_other_ca(void **state)
{
    fixture *f = *state;
    NEED_OPENSSL(f);
    tc_client *c = new_client(
        f, &(client_cfg){.root = f->path[CA], .cert = f->path[ROGUE_CERT], .key = f->path[CLIENT_KEY]});
    expect_transport_failure(c, NULL);
    assert_int_equal(tc_client_free(c), TC_OK);
}

int main(int argc, char **argv)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(tls_everything, setup_tls, teardown),
        cmocka_unit_test_setup_teardown(tls_grpcs_url_ip_address, setup_tls, teardown),
        cmocka_unit_test_setup_teardown(tls_wrong_ca_fails, setup_tls, teardown),
        cmocka_unit_test_setup_teardown(tls_system_store_rejects_test_ca, setup_tls, teardown),
        cmocka_unit_test_setup_teardown(tls_verify_off_accepts_unknown_ca, setup_tls, teardown),
        cmocka_unit_test_setup_teardown(tls_host_name_mismatch, setup_tls, teardown),
        cmocka_unit_test_setup_teardown(tls_missing_files, setup_tls, teardown),
        cmocka_unit_test_setup_teardown(tls_client_plain_server, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(plain_client_tls_server, setup_tls, teardown),
        cmocka_unit_test_setup_teardown(mtls_with_client_cert, setup_mutual, teardown),
        cmocka_unit_test_setup_teardown(mtls_without_client_cert, setup_mutual, teardown),
        cmocka_unit_test_setup_teardown(mtls_client_cert_from_other_ca, setup_mutual, teardown),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
