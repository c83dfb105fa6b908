/* Integration-test helpers: run tritonc-server on ephemeral ports and talk
 * raw HTTP/1.1 to it, so tests see exactly what goes over the wire. */
#ifndef TC_TESTS_LIB_SERVER_PROC_H
#define TC_TESTS_LIB_SERVER_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct tc_test_server {
    pid_t pid;
    int http_port;
    int grpc_port;
    int out_fd;       /* the server's stdout+stderr */
    int metrics_port; /* 0 until known: see tc_test_server_metrics_port() */
} tc_test_server;

/* Start TC_SERVER_BIN with --model-repository=`repo`, ports 0 and the extra
 * NULL-terminated arguments; wait (at most 20 s, by reading its output, no
 * sleeps) for the "Started HTTPService at" line. Returns 0 or -1. */
int tc_test_server_start(tc_test_server *s, const char *repo, const char *const *extra_args);
/* The port the server's metrics service listens on (an ephemeral one unless
 * the arguments name it), read from its "Started Metrics Service at" line,
 * which comes right after the HTTP one and is printed once the service
 * listens: waits for it at most 20 s. -1 when it does not come (metrics
 * disabled, or the server failed). */
int tc_test_server_metrics_port(tc_test_server *s);
/* SIGTERM, wait for exit; returns the exit status (0 = clean), -1 if it had
 * to be killed or died of a signal. Prints the server's output when non-zero. */
int tc_test_server_stop(tc_test_server *s);

typedef struct tc_http_reply {
    int status;
    char *headers; /* raw header block, lower-cased names, NUL-terminated */
    uint8_t *body; /* NUL-terminated for convenience */
    size_t body_len;
} tc_http_reply;

/* Send one request on a fresh connection (Connection: close) and read the
 * whole reply. `extra_headers` is "Name: value\r\n..." or NULL. A body is
 * sent with Content-Length when `body` is non-NULL. Returns 0 or -1. */
int tc_http_request(int port, const char *method, const char *path, const char *extra_headers,
                    const void *body, size_t body_len, tc_http_reply *reply);
/* Send raw bytes and read until the server closes (or 10 s pass). */
int tc_http_raw(int port, const void *bytes, size_t len, tc_http_reply *reply);
/* As tc_http_raw, then half-close the connection (the client sends nothing
 * more) and read for at most `timeout_ms`. For truncated requests. */
int tc_http_raw_half_close(int port, const void *bytes, size_t len, int timeout_ms,
                           tc_http_reply *reply);
/* Value of a response header (case-insensitive name), or NULL. Static buffer. */
const char *tc_http_header(const tc_http_reply *reply, const char *name);
void tc_http_reply_free(tc_http_reply *reply);

/* Scrape GET /metrics on `metrics_port` (see tc_test_server_metrics_port())
 * and read the sample written exactly as `series` (name{labels}). 0, or -1
 * when nothing answers or there is no such sample. */
int tc_test_metric(int metrics_port, const char *series, double *value);
/* Poll tc_test_metric() every 10 ms until the sample equals `want`, at most
 * `timeout_ms`. 0, or -1 after printing the last value seen. */
int tc_test_wait_metric(int metrics_port, const char *series, double want, int timeout_ms);
/* tc_test_wait_metric() on nv_inference_pending_request_count of version 1
 * of `model`: requests queued and not yet taken by an instance. Give the
 * model a dynamic batcher whose max_queue_delay_microseconds outlasts the
 * sending (and a max_batch_size above N): then N requests sent at once read
 * N here exactly when every one of them reached the server, and none has
 * started. (With one busy instance instead, N-1 is ambiguous: it is also N-1
 * arrivals that the idle instance has not picked up yet.) */
int tc_test_wait_pending(int metrics_port, const char *model, int want, int timeout_ms);

/* Temporary model repositories. tc_test_repo_new makes an empty one under
 * /tmp (its path into `dir`, at least 32 bytes); tc_test_repo_add_model
 * writes <dir>/<name>/config.pbtxt holding `config` and an empty version
 * folder <dir>/<name>/1; tc_test_repo_remove deletes the whole tree. The
 * first two return 0 or -1. */
int tc_test_repo_new(char *dir, size_t size);
int tc_test_repo_add_model(const char *dir, const char *name, const char *config);
void tc_test_repo_remove(const char *dir);

/* Read a whole file; NULL if missing. Caller frees with free(). */
uint8_t *tc_test_read_file(const char *path, size_t *len);

#endif /* TC_TESTS_LIB_SERVER_PROC_H */
