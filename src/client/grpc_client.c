/* The gRPC transport: constructor, URL parsing, inference (sync, async,
 * cancellable) and the vtable. Management calls live in grpc_manage.c,
 * streams in grpc_stream.c, the HTTP/2 connection in grpc_conn.c. */
#include "client/grpc_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client/request_internal.h"
#include "client/result_internal.h"
#include "common/alloc.h"
#include "common/timeutil.h"
#include "proto/v2_pb.h"

#define INFER_PATH "/inference.GRPCInferenceService/ModelInfer"

/* ---- unary plumbing ------------------------------------------------------------- */

/* Unary management calls keep the one response message. */
static tc_code keep_message(tc__gcall *call, const uint8_t *msg, size_t len)
{
    if (call->got_message)
        return TC_E_PROTOCOL;
    call->got_message = true;
    return tc__buf_append(&call->resp, msg, len);
}

static uint64_t call_timeout(const tc__grpc_client *gc, uint64_t req_timeout_us)
{
    return req_timeout_us > 0 ? req_timeout_us : gc->opts.network_timeout_us;
}

tc_code tc__grpc_unary(tc__grpc_client *gc, const char *path, const tc__buf *req,
                       const tc__hlist *h, tc__buf *resp, tc__error *err)
{
    tc__gcall *call = tc__gcall_new(gc->conn, path);
    if (call == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    call->timeout_us = call_timeout(gc, 0);
    call->on_msg = keep_message;
    tc_code rc = tc__hlist_copy(&call->headers, h);
    if (rc != TC_OK)
        rc = tc__error_set(err, rc, "invalid or too many headers");
    if (rc == TC_OK)
        rc = tc__gcall_frame(call, req->data, req->len, &call->out, err);
    if (rc == TC_OK)
        rc = tc__gconn_run_sync(gc->conn, call, err);
    if (rc == TC_OK) {
        rc = call->err.code;
        if (rc != TC_OK)
            *err = call->err;
        else {
            *resp = call->resp;
            memset(&call->resp, 0, sizeof call->resp);
        }
    }
    tc__gcall_free(call);
    return rc;
}

/* ---- inference ---------------------------------------------------------------------- */

typedef struct infer_ctx {
    tc_infer_cb cb;
    void *ud;
    tc_result *result;
} infer_ctx;

/* Decode the response straight from the reader's buffer (protobuf-c copies
 * the tensor bytes once, into memory the result owns). */
static tc_code infer_on_msg(tc__gcall *call, const uint8_t *msg, size_t len)
{
    infer_ctx *ctx = call->ud;
    tc_result *r = ctx->result;
    if (call->got_message)
        return TC_E_PROTOCOL;
    call->got_message = true;
    tc__error e;
    tc__error_clear(&e);
    tc_code rc = tc__pb_infer_response_decode(msg, len, &r->resp, &r->pb_backing, &e);
    if (rc != TC_OK)
        tc__result_set_error(r, rc == TC_E_NOMEM ? TC_E_NOMEM : TC_E_PROTOCOL, 0, e.msg);
    tc__timers_set(&call->timers, TC_TIMER_RECV_END);
    return TC_OK; /* a decoding failure is the result's status, not the stream's */
}

/* Fix the result's status from the finished call. */
static void infer_settle(tc__gcall *call, tc_result *r)
{
    tc__result_finish_timers(r, &call->timers);
    if (call->err.code != TC_OK) {
        tc__infer_response_cleanup(&r->resp);
        tc__pb_backing_free(r->pb_backing);
        r->pb_backing = NULL;
        tc__result_set_error(r, call->err.code, 0, call->err.msg);
    } else if (r->status == TC_E_UNKNOWN) {
        tc__result_set_error(r, TC_OK, 0, NULL);
    }
}

static void infer_async_done(tc__gcall *call)
{
    infer_ctx *ctx = call->ud;
    infer_settle(call, ctx->result);
    tc_infer_cb cb = ctx->cb;
    void *ud = ctx->ud;
    tc_result *r = ctx->result;
    tc__free(ctx);
    tc__gcall_free(call);
    cb(r, ud);
}

/* Build the call of an inference request (message framed, headers copied). */
static tc_code infer_prepare(tc__grpc_client *gc, const tc_request *req, infer_ctx *ctx,
                             tc__gcall **out, tc__error *err)
{
    uint64_t start_ns = tc__now_ns();
    tc__gcall *call = tc__gcall_new(gc->conn, INFER_PATH);
    if (call == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    call->timers.ns[TC_TIMER_REQUEST_START] = start_ns;
    int comp = tc__grpc_request_compression(req);
    call->enc = tc__grpc_encoding_of(comp >= 0 ? (tc_compression)comp : gc->opts.compression);
    call->timeout_us = call_timeout(gc, req->client_timeout_us);
    call->on_msg = infer_on_msg;
    call->ud = ctx;
    tc_code rc = tc__hlist_copy(&call->headers, &req->headers);
    if (rc != TC_OK)
        rc = tc__error_set(err, rc, "out of memory");
    if (rc == TC_OK)
        rc = tc__grpc_encode_infer(req, call->enc, gc->opts.max_send_message_size, &call->out,
                                   err);
    if (rc != TC_OK) {
        tc__gcall_free(call);
        return rc;
    }
    *out = call;
    return TC_OK;
}

static tc_code grpc_infer(tc_client *c, const tc_request *req, tc_result **out)
{
    tc__grpc_client *gc = (tc__grpc_client *)c;
    tc__error err;
    tc__error_clear(&err);
    infer_ctx ctx = {NULL, NULL, tc__result_new()};
    tc__gcall *call = NULL;
    tc_code rc = TC_OK;
    if (ctx.result == NULL) {
        rc = tc__error_set(&err, TC_E_NOMEM, "out of memory");
        goto out;
    }
    rc = infer_prepare(gc, req, &ctx, &call, &err);
    if (rc == TC_OK)
        rc = tc__gconn_run_sync(gc->conn, call, &err);
    if (rc != TC_OK)
        goto out;
    infer_settle(call, ctx.result);
    rc = ctx.result->status;
    if (rc != TC_OK)
        tc__error_set(&err, rc, "%s", tc_result_error_message(ctx.result));
    *out = ctx.result;
    ctx.result = NULL;
out:
    tc__gcall_free(call);
    tc_result_free(ctx.result);
    if (rc != TC_OK)
        tc__client_fail_err(c, &err);
    return rc;
}

static tc_code grpc_infer_async_id(tc_client *c, const tc_request *req, tc_infer_cb cb, void *ud,
                                   uint64_t *call_id)
{
    tc__grpc_client *gc = (tc__grpc_client *)c;
    tc__error err;
    tc__error_clear(&err);
    tc__gcall *call = NULL;
    infer_ctx *ctx = tc__calloc(1, sizeof *ctx);
    tc_code rc = TC_OK;
    if (ctx == NULL || (ctx->result = tc__result_new()) == NULL) {
        rc = tc__error_set(&err, TC_E_NOMEM, "out of memory");
        goto out;
    }
    ctx->cb = cb;
    ctx->ud = ud;
    rc = tc__gconn_start_thread(gc->conn, &err);
    if (rc == TC_OK)
        rc = infer_prepare(gc, req, ctx, &call, &err);
    if (rc != TC_OK)
        goto out;
    call->on_done = infer_async_done;
    uint64_t id = call->id;
    rc = tc__gconn_submit(gc->conn, call, &err);
    if (rc == TC_OK) {
        if (call_id != NULL)
            *call_id = id;
        return TC_OK; /* the connection owns call and ctx now */
    }
out:
    tc__gcall_free(call);
    if (ctx != NULL)
        tc_result_free(ctx->result);
    tc__free(ctx);
    return tc__client_fail_err(c, &err);
}

static tc_code grpc_infer_async(tc_client *c, const tc_request *req, tc_infer_cb cb, void *ud)
{
    return grpc_infer_async_id(c, req, cb, ud, NULL);
}

static tc_code grpc_cancel(tc_client *c, uint64_t call_id)
{
    tc__grpc_client *gc = (tc__grpc_client *)c;
    if (tc__gconn_has_thread(gc->conn))
        tc__gconn_cancel(gc->conn, call_id);
    return TC_OK;
}

/* ---- lifetime ---------------------------------------------------------------------- */

static void grpc_destroy(tc_client *c)
{
    tc__grpc_client *gc = (tc__grpc_client *)c;
    tc__gconn_free(gc->conn);
    tc__grpc_options_cleanup(&gc->opts);
    tc__free(gc);
}

static bool grpc_on_io_thread(const tc_client *c)
{
    const tc__grpc_client *gc = (const tc__grpc_client *)c;
    return gc->conn != NULL && tc__gconn_on_thread(gc->conn);
}

/* Split "[scheme://]host:port[/]" into host and port; *tls for grpcs/https. */
static tc_code parse_url(const char *url, char **host, char **port, bool *tls)
{
    const char *sep = strstr(url, "://");
    const char *p = url;
    if (sep != NULL) {
        size_t n = (size_t)(sep - url);
        bool plain = (n == 4 && strncasecmp(url, "grpc", 4) == 0) ||
                     (n == 4 && strncasecmp(url, "http", 4) == 0);
        bool secure = (n == 5 && strncasecmp(url, "grpcs", 5) == 0) ||
                      (n == 5 && strncasecmp(url, "https", 5) == 0);
        if (!plain && !secure)
            return TC_E_INVALID_ARG;
        *tls = secure;
        p = sep + 3;
    }
    const char *host_end;
    const char *colon;
    const char *h = p;
    if (*p == '[') {
        host_end = strchr(p, ']');
        if (host_end == NULL || host_end[1] != ':')
            return TC_E_INVALID_ARG;
        h = p + 1;
        colon = host_end + 1;
    } else {
        colon = strrchr(p, ':');
        host_end = colon;
    }
    if (colon == NULL || host_end == h)
        return TC_E_INVALID_ARG;
    const char *ps = colon + 1;
    size_t plen = strspn(ps, "0123456789");
    if (plen == 0 || plen > 5 || (ps[plen] != '\0' && strcmp(ps + plen, "/") != 0))
        return TC_E_INVALID_ARG;
    *host = tc__strndup(h, (size_t)(host_end - h));
    *port = tc__strndup(ps, plen);
    if (*host == NULL || *port == NULL) {
        tc__free(*host);
        tc__free(*port);
        return TC_E_NOMEM;
    }
    return TC_OK;
}

tc_code tc_grpc_client_new(tc_client **out, const char *url, const tc_grpc_options *opts)
{
    if (out == NULL)
        return TC_E_INVALID_ARG;
    *out = NULL;
    if (url == NULL || url[0] == '\0')
        return TC_E_INVALID_ARG;
    if (opts != NULL && opts->retry.max_attempts > 1)
        return tc_grpc_multi_client_new(out, &url, 1, opts);
    tc__grpc_client *gc = tc__calloc(1, sizeof *gc);
    if (gc == NULL)
        return TC_E_NOMEM;
    gc->base.vt = &tc__grpc_vtable;
    char *host = NULL;
    char *port = NULL;
    bool tls = false;
    tc_code rc = tc__grpc_options_copy(&gc->opts, opts);
    if (rc == TC_OK)
        rc = parse_url(url, &host, &port, &tls);
    if (rc == TC_OK && tls)
        gc->opts.use_tls = true;
    if (rc == TC_OK)
        rc = tc__gconn_new(&gc->conn, host, port, &gc->opts);
    tc__free(host);
    tc__free(port);
    if (rc != TC_OK) {
        grpc_destroy(&gc->base);
        return rc;
    }
    *out = &gc->base;
    return TC_OK;
}

const tc__client_vtable tc__grpc_vtable = {
    .destroy = grpc_destroy,
    .on_io_thread = grpc_on_io_thread,
    .health = tc__grpc_health,
    .server_metadata = tc__grpc_server_metadata,
    .model_metadata = tc__grpc_model_metadata,
    .document = tc__grpc_document,
    .repository_index = tc__grpc_repository_index,
    .load = tc__grpc_load,
    .unload = tc__grpc_unload,
    .infer = grpc_infer,
    .infer_async = grpc_infer_async,
    .infer_async_id = grpc_infer_async_id,
    .cancel = grpc_cancel,
    .stream_start = tc__grpc_stream_start,
    .shm_register = tc__grpc_shm_register,
    .shm_unregister = tc__grpc_shm_unregister,
    .shm_status = tc__grpc_shm_status,
};
