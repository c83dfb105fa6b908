/* The HTTP transport: constructor, libcurl plumbing shared by sync and
 * async calls, and the sync inference path. Management calls live in
 * http_manage.c, request bodies in http_body.c, the async engine in
 * io_thread.c. */
#include "client/http_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client/http_sync.h"
#include "client/multi_client.h"
#include "client/request_internal.h"
#include "client/result_internal.h"
#include "common/alloc.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "proto/v2_json.h"

static pthread_once_t g_curl_once = PTHREAD_ONCE_INIT;
static CURLcode g_curl_init;

static void curl_init_once(void)
{
    g_curl_init = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- libcurl callbacks ----------------------------------------------------- */

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    tc__xfer *x = userdata;
    size_t n = size * nmemb;
    tc__timers_mark(&x->timers, TC_TIMER_RECV_START);
    if (tc__buf_append(&x->resp, ptr, n) != TC_OK)
        return 0; /* makes curl fail the transfer with CURLE_WRITE_ERROR */
    return n;
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *userdata)
{
    static const char k_name[] = "inference-header-content-length:";
    tc__xfer *x = userdata;
    size_t n = size * nitems;
    tc__timers_mark(&x->timers, TC_TIMER_RECV_START);
    if (n >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
        x->header_len = TC__NO_HEADER_LENGTH; /* a new response (after 1xx) starts */
    } else if (n > sizeof k_name - 1 && strncasecmp(buf, k_name, sizeof k_name - 1) == 0) {
        char tmp[32];
        size_t len = n - (sizeof k_name - 1);
        if (len >= sizeof tmp)
            len = sizeof tmp - 1;
        memcpy(tmp, buf + sizeof k_name - 1, len);
        tmp[len] = '\0';
        char *end;
        unsigned long long v = strtoull(tmp, &end, 10);
        if (end != tmp && v <= SIZE_MAX)
            x->header_len = (size_t)v;
    }
    return n;
}

static size_t on_read(char *buffer, size_t size, size_t nitems, void *userdata)
{
    tc__xfer *x = userdata;
    size_t room = size * nitems;
    size_t done = 0;
    while (done < room && x->iov_pos < x->iov_count) {
        const tc__iov *v = &x->iov[x->iov_pos];
        size_t n = v->len - x->iov_off;
        if (n > room - done)
            n = room - done;
        if (n > 0)
            memcpy(buffer + done, v->data + x->iov_off, n);
        done += n;
        x->iov_off += n;
        if (x->iov_off == v->len) {
            x->iov_pos++;
            x->iov_off = 0;
        }
    }
    if (x->iov_pos == x->iov_count)
        tc__timers_set(&x->timers, TC_TIMER_SEND_END); /* the last byte went to curl */
    return done;
}

/* curl rewinds the body when it resends on a fresh connection. */
static int on_seek(void *userdata, curl_off_t offset, int origin)
{
    tc__xfer *x = userdata;
    if (origin != SEEK_SET || offset < 0)
        return CURL_SEEKFUNC_CANTSEEK;
    size_t left = (size_t)offset;
    x->iov_pos = 0;
    x->iov_off = 0;
    while (x->iov_pos < x->iov_count && left >= x->iov[x->iov_pos].len) {
        left -= x->iov[x->iov_pos].len;
        x->iov_pos++;
    }
    if (left > 0 && x->iov_pos == x->iov_count)
        return CURL_SEEKFUNC_FAIL;
    x->iov_off = left;
    return CURL_SEEKFUNC_OK;
}

static int on_debug(CURL *handle, curl_infotype type, char *data, size_t size, void *userp)
{
    (void)handle;
    (void)userp;
    int len = size > 4096 ? 4096 : (int)size;
    switch (type) {
    case CURLINFO_TEXT:
        tc__log(TC_LOG_VERBOSE, "* %.*s", len, data);
        break;
    case CURLINFO_HEADER_OUT:
        tc__log(TC_LOG_VERBOSE, "> %.*s", len, data);
        break;
    case CURLINFO_HEADER_IN:
        tc__log(TC_LOG_VERBOSE, "< %.*s", len, data);
        break;
    case CURLINFO_DATA_OUT:
        tc__log(TC_LOG_VERBOSE, "> [%zu bytes of body]", size);
        break;
    case CURLINFO_DATA_IN:
        tc__log(TC_LOG_VERBOSE, "< [%zu bytes of body]", size);
        break;
    default:
        break;
    }
    return 0;
}

/* ---- transfers --------------------------------------------------------------- */

#define SETOPT(e, opt, val)                                                                        \
    do {                                                                                           \
        if (cc == CURLE_OK)                                                                        \
            cc = curl_easy_setopt((e), (opt), (val));                                              \
    } while (0)

static long us_to_ms(uint64_t us)
{
    uint64_t ms = (us + 999) / 1000;
    return ms > (uint64_t)LONG_MAX ? LONG_MAX : (long)ms;
}

static CURLcode apply_body(CURL *e, tc__xfer *x)
{
    CURLcode cc = CURLE_OK;
    if (!x->post)
        return cc;
    if (x->iov_count > 0) {
        curl_off_t total = 0;
        for (size_t i = 0; i < x->iov_count; i++)
            total += (curl_off_t)x->iov[i].len;
        x->iov_pos = 0;
        x->iov_off = 0;
        SETOPT(e, CURLOPT_POST, 1L);
        SETOPT(e, CURLOPT_READFUNCTION, on_read);
        SETOPT(e, CURLOPT_READDATA, x);
        SETOPT(e, CURLOPT_SEEKFUNCTION, on_seek);
        SETOPT(e, CURLOPT_SEEKDATA, x);
        SETOPT(e, CURLOPT_POSTFIELDSIZE_LARGE, total);
        return cc;
    }
    SETOPT(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->body.len);
    SETOPT(e, CURLOPT_POSTFIELDS, x->body.data != NULL ? (const char *)x->body.data : "");
    return cc;
}

static CURLcode apply_tls(CURL *e, const struct tc_http_options *o)
{
    CURLcode cc = CURLE_OK;
    SETOPT(e, CURLOPT_SSL_VERIFYPEER, o->verify_peer ? 1L : 0L);
    SETOPT(e, CURLOPT_SSL_VERIFYHOST, o->verify_host ? 2L : 0L);
    if (o->ca_file != NULL)
        SETOPT(e, CURLOPT_CAINFO, o->ca_file);
    if (o->cert_file != NULL)
        SETOPT(e, CURLOPT_SSLCERT, o->cert_file);
    if (o->key_file != NULL)
        SETOPT(e, CURLOPT_SSLKEY, o->key_file);
    return cc;
}

/* An easy handle for a new transfer: a pooled one (reset) or a new one. */
static CURL *easy_take(tc__http_client *hc)
{
    CURL *e = NULL;
    (void)pthread_mutex_lock(&hc->pool_mu);
    if (hc->pool_count > 0)
        e = hc->pool[--hc->pool_count];
    (void)pthread_mutex_unlock(&hc->pool_mu);
    if (e == NULL)
        return curl_easy_init();
    curl_easy_reset(e);
    return e;
}

static void easy_give_back(tc__http_client *hc, CURL *e)
{
    (void)pthread_mutex_lock(&hc->pool_mu);
    bool kept = hc->pool_count < sizeof hc->pool / sizeof hc->pool[0];
    if (kept)
        hc->pool[hc->pool_count++] = e;
    (void)pthread_mutex_unlock(&hc->pool_mu);
    if (!kept)
        curl_easy_cleanup(e);
}

tc_code tc__http_xfer_apply(tc__http_client *hc, tc__xfer *x, tc__error *err)
{
    if (x->easy == NULL)
        x->easy = easy_take(hc);
    else
        curl_easy_reset(x->easy); /* keeps the connection cache */
    if (x->easy == NULL)
        return tc__error_set(err, TC_E_NOMEM, "curl_easy_init failed");
    CURL *e = x->easy;
    CURLcode cc = CURLE_OK;
    x->errbuf[0] = '\0';
    x->header_len = TC__NO_HEADER_LENGTH;
    SETOPT(e, CURLOPT_URL, x->url);
    SETOPT(e, CURLOPT_NOSIGNAL, 1L);
    SETOPT(e, CURLOPT_TCP_NODELAY, 1L);
    SETOPT(e, CURLOPT_ERRORBUFFER, x->errbuf);
    SETOPT(e, CURLOPT_WRITEFUNCTION, on_write);
    SETOPT(e, CURLOPT_WRITEDATA, x);
    SETOPT(e, CURLOPT_HEADERFUNCTION, on_header);
    SETOPT(e, CURLOPT_HEADERDATA, x);
    SETOPT(e, CURLOPT_HTTPHEADER, x->headers);
    SETOPT(e, CURLOPT_PRIVATE, x);
    if (x->timeout_us > 0)
        SETOPT(e, CURLOPT_TIMEOUT_MS, us_to_ms(x->timeout_us));
    if (hc->opts.connect_timeout_us > 0)
        SETOPT(e, CURLOPT_CONNECTTIMEOUT_MS, us_to_ms(hc->opts.connect_timeout_us));
    if (x->accept_encoding != NULL)
        SETOPT(e, CURLOPT_ACCEPT_ENCODING, x->accept_encoding);
    if (hc->opts.verbose) {
        SETOPT(e, CURLOPT_DEBUGFUNCTION, on_debug);
        SETOPT(e, CURLOPT_VERBOSE, 1L);
    }
    if (cc == CURLE_OK)
        cc = apply_tls(e, &hc->opts);
    if (cc == CURLE_OK)
        cc = apply_body(e, x);
    if (cc != CURLE_OK) {
        tc_code code = cc == CURLE_UNKNOWN_OPTION || cc == CURLE_NOT_BUILT_IN ? TC_E_NOT_SUPPORTED
                                                                              : TC_E_TRANSPORT;
        return tc__error_set(err, code, "cannot set up the transfer: %s", curl_easy_strerror(cc));
    }
    return TC_OK;
}

void tc__xfer_free(tc__http_client *hc, tc__xfer *x)
{
    if (x == NULL)
        return;
    if (x->easy != NULL && x->easy != hc->easy)
        easy_give_back(hc, x->easy);
    curl_slist_free_all(x->headers);
    tc__free(x->url);
    tc__buf_cleanup(&x->body);
    tc__free(x->iov);
    for (size_t i = 0; i < x->copy_count; i++)
        tc__free(x->copies[i]);
    tc__free(x->copies);
    tc__buf_cleanup(&x->resp);
    tc__free(x);
}

/* Describe a failed transfer in `err`. */
static void curl_failure(const tc__xfer *x, CURLcode cc, tc__error *err)
{
    tc_code code = TC_E_TRANSPORT;
    if (cc == CURLE_OPERATION_TIMEDOUT)
        code = TC_E_TIMEOUT;
    else if (cc == CURLE_OUT_OF_MEMORY)
        code = TC_E_NOMEM;
    tc__error_set(err, code, "%s%s%s", curl_easy_strerror(cc), x->errbuf[0] != '\0' ? ": " : "",
                  x->errbuf);
}

tc_code tc__http_perform(tc__http_client *hc, tc__xfer *x, long *status, tc__error *err)
{
    if (hc->sync != NULL)
        return tc__hsync_perform(hc->sync, x, status, err);
    x->easy = hc->easy;
    tc_code rc = tc__http_xfer_apply(hc, x, err);
    if (rc != TC_OK)
        return rc;
    CURLcode cc = curl_easy_perform(x->easy);
    if (cc != CURLE_OK) {
        curl_failure(x, cc, err);
        return err->code;
    }
    *status = 0;
    (void)curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, status);
    return TC_OK;
}

/* Send stamps curl's callbacks cannot give (a body from CURLOPT_POSTFIELDS):
 * SEND_START (set when the transfer was handed to curl) plus the time curl
 * took before sending began. */
static void curl_send_stamps(tc__xfer *x)
{
    tc__timers *t = &x->timers;
    if (t->ns[TC_TIMER_SEND_START] == 0 || t->ns[TC_TIMER_SEND_END] != 0)
        return;
    curl_off_t pre_us = 0;
    if (curl_easy_getinfo(x->easy, CURLINFO_PRETRANSFER_TIME_T, &pre_us) == CURLE_OK && pre_us > 0)
        t->ns[TC_TIMER_SEND_END] = t->ns[TC_TIMER_SEND_START] + (uint64_t)pre_us * 1000u;
}

void tc__http_infer_finish(tc__xfer *x, CURLcode cc, tc_result *r)
{
    curl_send_stamps(x);
    if (cc != CURLE_OK) {
        tc__error err;
        curl_failure(x, cc, &err);
        tc__result_set_error(r, err.code, 0, err.msg);
        return;
    }
    long status = 0;
    (void)curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    size_t len = 0;
    uint8_t *body = tc__buf_steal(&x->resp, &len);
    tc__result_from_http(r, status, body, len, x->header_len);
    tc__timers_set(&x->timers, TC_TIMER_RECV_END);
}

/* ---- inference ------------------------------------------------------------------ */

static const char *accept_encoding(const tc__http_client *hc)
{
    switch (hc->opts.response_compression) {
    case TC_COMPRESSION_GZIP:
        return "gzip";
    case TC_COMPRESSION_DEFLATE:
        return "deflate";
    default:
        return NULL;
    }
}

/* Run a sync inference transfer into `r`. Only set-up failures return an
 * error; transport and server failures land in `r` as the curl path does. */
static tc_code infer_exchange(tc__http_client *hc, tc__xfer *x, tc_result *r, tc__error *err)
{
    if (hc->sync == NULL) {
        tc_code rc = tc__http_xfer_apply(hc, x, err);
        tc__timers_set(&x->timers, TC_TIMER_SEND_START);
        if (rc == TC_OK)
            tc__http_infer_finish(x, curl_easy_perform(x->easy), r);
        return rc;
    }
    long status = 0;
    if (tc__hsync_perform(hc->sync, x, &status, err) != TC_OK) {
        tc__result_set_error(r, err->code, 0, err->msg);
        return TC_OK;
    }
    size_t len = 0;
    uint8_t *body = tc__buf_steal(&x->resp, &len);
    tc__result_from_http(r, status, body, len, x->header_len);
    tc__timers_set(&x->timers, TC_TIMER_RECV_END);
    return TC_OK;
}

static tc_code http_infer(tc_client *c, const tc_request *req, tc_result **out)
{
    tc__http_client *hc = (tc__http_client *)c;
    tc__error err;
    tc__error_clear(&err);
    tc__xfer *x = NULL;
    tc_result *r = NULL;
    uint64_t start_ns = tc__now_ns();
    tc_code rc = tc__http_infer_prepare(hc, req, false, &x, &err);
    if (rc != TC_OK)
        goto out;
    x->timers.ns[TC_TIMER_REQUEST_START] = start_ns;
    x->post = true;
    x->accept_encoding = accept_encoding(hc);
    x->easy = hc->easy;
    r = tc__result_new();
    if (r == NULL) {
        rc = tc__error_set(&err, TC_E_NOMEM, "out of memory");
        goto out;
    }
    rc = infer_exchange(hc, x, r, &err);
    if (rc != TC_OK)
        goto out;
    tc__result_finish_timers(r, &x->timers);
    rc = r->status;
    if (rc != TC_OK)
        tc__error_set(&err, rc, "%s", tc_result_error_message(r));
    *out = r;
    r = NULL;
out:
    tc_result_free(r);
    tc__xfer_free(hc, x);
    if (rc != TC_OK)
        tc__client_fail_err(c, &err);
    return rc;
}

static tc_code http_infer_async(tc_client *c, const tc_request *req, tc_infer_cb cb, void *ud)
{
    tc__http_client *hc = (tc__http_client *)c;
    tc__error err;
    tc__error_clear(&err);
    tc__xfer *x = NULL;
    uint64_t start_ns = tc__now_ns();
    tc_code rc = tc__http_infer_prepare(hc, req, true, &x, &err);
    if (rc != TC_OK)
        goto out;
    x->timers.ns[TC_TIMER_REQUEST_START] = start_ns;
    x->post = true;
    x->accept_encoding = accept_encoding(hc);
    x->cb = cb;
    x->user_data = ud;
    x->result = tc__result_new();
    if (x->result == NULL) {
        rc = tc__error_set(&err, TC_E_NOMEM, "out of memory");
        goto out;
    }
    rc = tc__io_submit(hc, x, &err);
    if (rc == TC_OK)
        x = NULL; /* the I/O thread owns it now */
out:
    if (x != NULL)
        tc_result_free(x->result);
    tc__xfer_free(hc, x);
    if (rc != TC_OK)
        tc__client_fail_err(c, &err);
    return rc;
}

/* ---- lifetime ---------------------------------------------------------------------- */

static void http_destroy(tc_client *c)
{
    tc__http_client *hc = (tc__http_client *)c;
    tc__io_destroy(hc);
    tc__hsync_free(hc->sync);
    if (hc->easy != NULL)
        curl_easy_cleanup(hc->easy);
    for (size_t i = 0; i < hc->pool_count; i++)
        curl_easy_cleanup(hc->pool[i]);
    (void)pthread_mutex_destroy(&hc->pool_mu);
    tc__http_options_cleanup(&hc->opts);
    tc__free(hc->base_url);
    tc__free(hc);
}

static bool http_on_io_thread(const tc_client *c)
{
    const tc__http_client *hc = (const tc__http_client *)c;
    return hc->io != NULL && tc__io_is_current(hc->io);
}

/* "host:port" -> "http://host:port"; strip trailing slashes. */
static tc_code normalize_url(const char *url, char **out)
{
    tc__buf b = TC__BUF_INIT;
    tc_code rc = TC_OK;
    const char *sep = strstr(url, "://");
    if (sep == NULL)
        rc = tc__buf_append_str(&b, "http://");
    else if (!((sep - url == 4 && strncasecmp(url, "http", 4) == 0) ||
               (sep - url == 5 && strncasecmp(url, "https", 5) == 0)))
        rc = TC_E_INVALID_ARG;
    if (rc == TC_OK)
        rc = tc__buf_append_str(&b, url);
    while (rc == TC_OK && b.len > 0 && b.data[b.len - 1] == '/')
        b.data[--b.len] = '\0';
    if (rc != TC_OK) {
        tc__buf_cleanup(&b);
        return rc;
    }
    *out = (char *)tc__buf_steal(&b, NULL);
    return TC_OK;
}

tc_code tc_http_client_new(tc_client **out, const char *url, const tc_http_options *opts)
{
    if (out == NULL)
        return TC_E_INVALID_ARG;
    *out = NULL;
    if (url == NULL || url[0] == '\0')
        return TC_E_INVALID_ARG;
    if (opts != NULL && opts->retry.max_attempts > 1)
        return tc_http_multi_client_new(out, &url, 1, opts);
    if (pthread_once(&g_curl_once, curl_init_once) != 0 || g_curl_init != CURLE_OK)
        return TC_E_TRANSPORT;
    tc__http_client *hc = tc__calloc(1, sizeof *hc);
    if (hc == NULL)
        return TC_E_NOMEM;
    hc->base.vt = &tc__http_vtable;
    (void)pthread_mutex_init(&hc->pool_mu, NULL);
    tc_code rc = tc__http_options_copy(&hc->opts, opts);
    if (rc == TC_OK)
        rc = normalize_url(url, &hc->base_url);
    if (rc == TC_OK) {
        hc->easy = curl_easy_init();
        if (hc->easy == NULL)
            rc = TC_E_TRANSPORT;
    }
    if (rc == TC_OK) {
        rc = tc__hsync_new(&hc->sync, hc->base_url, &hc->opts);
        if (rc == TC_E_NOT_SUPPORTED)
            rc = TC_OK; /* this URL or these options need libcurl */
    }
    if (rc != TC_OK) {
        http_destroy(&hc->base);
        return rc;
    }
    *out = &hc->base;
    return TC_OK;
}

/* The plain client of one endpoint of a resilient client (multi_client.c). */
static tc_code make_endpoint(tc_client **out, const char *url, const void *opts)
{
    struct tc_http_options o;
    tc_code rc = tc__http_options_copy(&o, opts);
    if (rc != TC_OK)
        return rc;
    o.retry.max_attempts = 0;
    rc = tc_http_client_new(out, url, &o);
    tc__http_options_cleanup(&o);
    return rc;
}

tc_code tc_http_multi_client_new(tc_client **out, const char *const *urls, size_t url_count,
                                 const tc_http_options *opts)
{
    tc__multi_cfg cfg = {make_endpoint, opts, {0, 0, 0}, 0};
    if (opts != NULL) {
        cfg.retry = opts->retry;
        cfg.network_timeout_us = opts->network_timeout_us;
    }
    return tc__multi_client_new(out, urls, url_count, &cfg);
}

/* The vtable; the management entries are in http_manage.c. */
const tc__client_vtable tc__http_vtable = {
    .destroy = http_destroy,
    .on_io_thread = http_on_io_thread,
    .health = tc__http_health,
    .server_metadata = tc__http_server_metadata,
    .model_metadata = tc__http_model_metadata,
    .document = tc__http_document,
    .repository_index = tc__http_repository_index,
    .load = tc__http_load,
    .unload = tc__http_unload,
    .infer = http_infer,
    .infer_async = http_infer_async,
    .shm_register = tc__http_shm_register,
    .shm_unregister = tc__http_shm_unregister,
    .shm_status = tc__http_shm_status,
};
