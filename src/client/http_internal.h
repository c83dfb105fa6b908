/* The HTTP transport's internals, shared by http_client.c (options,
 * sync calls, request bodies) and io_thread.c (the async engine). */
#ifndef TC_SRC_CLIENT_HTTP_INTERNAL_H
#define TC_SRC_CLIENT_HTTP_INTERNAL_H

#include <curl/curl.h>
#include <pthread.h>

#include <tritonc/http.h>

#include "client/client_internal.h"
#include "client/result_internal.h"
#include "client/retry.h"
#include "common/buf.h"

struct tc_http_options {
    bool verbose;
    uint32_t max_connections;
    uint64_t connect_timeout_us;
    uint64_t network_timeout_us;
    tc_compression request_compression;
    tc_compression response_compression;
    bool verify_peer;
    bool verify_host;
    char *ca_file;
    char *cert_file;
    char *key_file;
    tc__hlist headers;
    tc__retry_cfg retry; /* tc_http_options_set_retry() */
};

typedef struct tc__io tc__io;

typedef struct tc__http_client {
    tc_client base;              /* first: a tc_client * is a tc__http_client * */
    char *base_url;              /* "http://host:port[/prefix]", no trailing '/' */
    struct tc_http_options opts; /* deep copy */
    CURL *easy;                  /* sync calls on libcurl; reused for keep-alive */
    struct tc__hsync *sync;      /* sync calls without libcurl (http_sync.h); NULL = curl */
    tc__io *io;                  /* async engine, started on first use */
    /* Easy handles of finished async transfers, reset and reused by the
     * next ones instead of a curl_easy_init()/cleanup() pair per call. */
    pthread_mutex_t pool_mu;
    CURL *pool[32];    /* lock: pool_mu */
    size_t pool_count; /* lock: pool_mu */
} tc__http_client;

/* One piece of a request body. */
typedef struct tc__iov {
    const uint8_t *data;
    size_t len;
} tc__iov;

/* One HTTP exchange: request body, headers, and the response being read.
 * Used once per call, then freed with tc__xfer_free(). */
typedef struct tc__xfer {
    CURL *easy;
    struct curl_slist *headers;
    char *url;
    tc__buf body; /* JSON header, or the whole assembled/compressed body */
    tc__iov *iov; /* body pieces when sent zero-copy (iov_count > 0) */
    size_t iov_count;
    size_t iov_pos; /* read position: piece index and offset in it */
    size_t iov_off;
    uint8_t **copies; /* copies of request-owned data kept for async sends */
    size_t copy_count;
    uint64_t timeout_us;
    bool post;                   /* POST (with x->body / x->iov) rather than GET */
    const char *accept_encoding; /* static string or NULL */
    tc__buf resp;
    size_t header_len; /* Inference-Header-Content-Length of the response */
    char errbuf[CURL_ERROR_SIZE];
    tc__timers timers; /* inference: stamps so far (REQUEST_START .. RECV_END) */
    /* async only */
    tc_infer_cb cb;
    void *user_data;
    tc_result *result;
    struct tc__xfer *next;
} tc__xfer;

/* Build the transfer of an inference request (body, headers, URL). With
 * `keep` the transfer copies every request-owned byte it needs, so it can
 * outlive `req` (async). Errors go to `err`. */
tc_code tc__http_infer_prepare(tc__http_client *hc, const tc_request *req, bool keep,
                               tc__xfer **out, tc__error *err);
/* Set the options of `x` on its easy handle (created when NULL). */
tc_code tc__http_xfer_apply(tc__http_client *hc, tc__xfer *x, tc__error *err);
/* Turn a finished transfer into `r` (takes the response buffer). */
void tc__http_infer_finish(tc__xfer *x, CURLcode cc, tc_result *r);
/* Free a transfer, including its easy handle unless it is the sync one. */
void tc__xfer_free(tc__http_client *hc, tc__xfer *x);

/* Percent-encode a URL path segment onto `b`. */
tc_code tc__http_append_escaped(tc__buf *b, const char *s);
/* Headers every call sends: no `Expect: 100-continue`, then the client's
 * and the call's own headers (`call` may be NULL). */
tc_code tc__http_common_headers(tc__http_client *hc, tc__xfer *x, const tc__hlist *call);
/* Deep copy of options (NULL src = defaults) and its cleanup. */
tc_code tc__http_options_copy(struct tc_http_options *dst, const struct tc_http_options *src);
void tc__http_options_cleanup(struct tc_http_options *o);

/* Run `x` as a sync call (lean transport, else the sync curl handle).
 * TC_OK when an HTTP answer arrived (any status). */
tc_code tc__http_perform(tc__http_client *hc, tc__xfer *x, long *status, tc__error *err);

/* Management calls (http_manage.c), entries of the vtable. */
tc_code tc__http_health(tc_client *c, int which, const char *model, const char *version,
                        const tc__hlist *h, bool *ok);
tc_code tc__http_server_metadata(tc_client *c, const tc__hlist *h, tc_server_metadata **out);
tc_code tc__http_model_metadata(tc_client *c, const char *model, const char *version,
                                const tc__hlist *h, tc_model_metadata **out);
tc_code tc__http_document(tc_client *c, int which, const char *model, const char *version,
                          const char *body, const tc__hlist *h, char **json);
tc_code tc__http_repository_index(tc_client *c, bool ready_only, const tc__hlist *h,
                                  tc_repository_index **out);
tc_code tc__http_load(tc_client *c, const char *model, const tc_load_options *o,
                      const tc__hlist *h);
tc_code tc__http_unload(tc_client *c, const char *model, bool dependents, const tc__hlist *h);
tc_code tc__http_shm_register(tc_client *c, int kind, const tc__shm_reg *reg, const tc__hlist *h);
tc_code tc__http_shm_unregister(tc_client *c, int kind, const char *name, const tc__hlist *h);
tc_code tc__http_shm_status(tc_client *c, int kind, const char *name, const tc__hlist *h,
                            tc_shm_status **out);

extern const tc__client_vtable tc__http_vtable;

/* Async engine (io_thread.c). */
tc_code tc__io_submit(tc__http_client *hc, tc__xfer *x, tc__error *err);
bool tc__io_is_current(const tc__io *io);
/* Stop the thread, completing every pending transfer with TC_E_CANCELLED. */
void tc__io_destroy(tc__http_client *hc);

#endif /* TC_SRC_CLIENT_HTTP_INTERNAL_H */
