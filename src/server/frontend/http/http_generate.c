/* POST /v2/models/<m>[/versions/<v>]/generate and .../generate_stream
 * (HTTP.md section 15): the generate extension's flat JSON in and out.
 *
 * Both submit through the core's streaming entry point, so decoupled
 * models work too. /generate collects the responses and answers once at
 * the final callback. /generate_stream answers at the first callback (its
 * status is the first response's: 200, or the error's) with a chunked
 * text/event-stream body: each response is an event `data: <json>\n\n`,
 * errors included. The body is fed by a content reader that suspends the
 * connection while no event is waiting; the core's callbacks resume it.
 *
 * Lifetime: a `gen` holds the request the core executes. It is referenced
 * by the core job (until its final callback) and, for a stream, by the MHD
 * response (until MHD frees it); the HTTP request (tc__http_req) is used
 * only until its reply has been handed over. */
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "common/alloc.h"
#include "common/log.h"
#include "frontend/http/http_internal.h"
#include "proto/model_config.h"
#include "proto/v2_json.h"

#define SSE_BLOCK 4096

typedef struct gen {
    atomic_uint refs;
    pthread_mutex_t lock; /* guards everything below `lock` */
    tc__http_server *srv;
    struct MHD_Connection *conn;
    bool streaming;
    tc__infer_request req; /* what the core runs; freed with the gen */
    bool req_live;
    atomic_bool cancelled; /* the client has gone: queued work is dropped */
    tc__http_req *r;       /* until the reply is handed over, then NULL */
    unsigned status;       /* decided by the first callback */
    size_t events;         /* responses and errors produced */
    tc__buf out;           /* /generate: the one answer; stream: bytes not sent */
    size_t off;
    bool final;     /* the core's final callback ran */
    bool suspended; /* the reader suspended the connection */
    bool gone;      /* MHD freed the stream response */
} gen;

static void gen_unref(gen *g)
{
    if (atomic_fetch_sub(&g->refs, 1u) != 1u)
        return;
    if (g->req_live)
        tc__infer_request_cleanup(&g->req);
    tc__buf_cleanup(&g->out);
    pthread_mutex_destroy(&g->lock);
    tc__free(g);
}

/* One event's JSON: the response, or {"error": ...}. */
static void event_json(const tc__infer_response *resp, const tc__error *err, tc__buf *json)
{
    tc__error e;
    tc__error_clear(&e);
    if (resp != NULL && tc__v2_generate_response_encode(resp, json, &e) == TC_OK)
        return;
    tc__buf_reset(json);
    (void)tc__v2_error_encode(resp != NULL ? e.msg : err->msg, json);
}

/* ---- /generate_stream: the body reader ------------------------------------------------ */

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    gen *g = cls;
    ssize_t n = 0;
    pthread_mutex_lock(&g->lock);
    size_t avail = g->out.len - g->off;
    if (avail > 0) {
        size_t take = avail < max ? avail : max;
        memcpy(buf, g->out.data + g->off, take);
        g->off += take;
        if (g->off == g->out.len) {
            tc__buf_reset(&g->out);
            g->off = 0;
        }
        n = (ssize_t)take;
    } else if (g->final) {
        n = MHD_CONTENT_READER_END_OF_STREAM;
    } else {
        /* Nothing yet: sleep until the core has more (see stream_cb). */
        g->suspended = true;
        atomic_fetch_add(&g->srv->suspended, 1u);
        MHD_suspend_connection(g->conn);
    }
    pthread_mutex_unlock(&g->lock);
    return n;
}

static void sse_free(void *cls)
{
    gen *g = cls;
    pthread_mutex_lock(&g->lock);
    g->gone = true;
    pthread_mutex_unlock(&g->lock);
    atomic_store(&g->cancelled, true);
    gen_unref(g);
}

/* The stream's reply, queued by the HTTP request's handler once resumed. */
static tc__http_reply stream_reply(gen *g)
{
    tc__http_reply reply = {g->status, NULL};
    reply.response =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, SSE_BLOCK, sse_read, g, sse_free);
    if (reply.response == NULL)
        return tc__http_reply_status(500, "out of memory");
    atomic_fetch_add(&g->refs, 1u); /* the response's, dropped by sse_free */
    (void)MHD_add_response_header(reply.response, MHD_HTTP_HEADER_CONTENT_TYPE,
                                  "text/event-stream; charset=utf-8");
    return reply;
}

/* Hand `reply` to the HTTP request and wake its connection. g->lock held. */
static void hand_over(gen *g, tc__http_reply reply)
{
    tc__http_answer(g->r, reply);
    g->r = NULL;
}

/* ---- core callbacks (instance threads) ----------------------------------------------- */

static void stream_cb(tc__infer_response *resp, const tc__error *err, bool final, void *user_data)
{
    gen *g = user_data;
    tc__buf json = TC__BUF_INIT;
    bool event = resp != NULL || err != NULL;
    if (event)
        event_json(resp, err, &json);
    tc__core_response_free(resp);
    pthread_mutex_lock(&g->lock);
    if (g->status == 0)
        /* The first callback decides, as upstream does. */
        g->status = err != NULL ? (unsigned)tc__code_to_http_status(err->code) : 200;
    if (event && g->streaming && !g->gone) {
        (void)tc__buf_append_str(&g->out, "data: ");
        (void)tc__buf_append(&g->out, json.data, json.len);
        (void)tc__buf_append_str(&g->out, "\n\n");
    } else if (event && g->events == 0) {
        (void)tc__buf_append(&g->out, json.data, json.len); /* /generate keeps the first */
    }
    g->events += event ? 1u : 0u;
    g->final = g->final || final;
    if (g->streaming && g->r != NULL) {
        hand_over(g, stream_reply(g)); /* the first callback starts the stream */
    } else if (g->streaming && g->suspended && !g->gone) {
        g->suspended = false;
        atomic_fetch_sub(&g->srv->suspended, 1u);
        MHD_resume_connection(g->conn);
    } else if (!g->streaming && final) {
        tc__http_reply reply;
        if (g->events == 1) {
            reply = tc__http_reply_json(&g->out);
            reply.status = g->status;
        } else {
            reply = tc__http_reply_status(
                g->status, "generate expects model to produce exactly 1 response, use generate "
                           "stream for model that generates various number of responses");
        }
        if (reply.response == NULL)
            reply = tc__http_reply_status(500, "out of memory");
        hand_over(g, reply);
    }
    pthread_mutex_unlock(&g->lock);
    tc__buf_cleanup(&json);
    if (final)
        gen_unref(g); /* the core's reference */
}

/* ---- entry ------------------------------------------------------------------------------ */

/* Decode the body against the model's inputs (as its metadata lists them)
 * into g->req. */
static tc_code decode(tc__http_req *r, gen *g, tc__error *err)
{
    tc__model_handle *mh = NULL;
    tc_code rc = tc__core_model_acquire(r->srv->core, r->route.model, r->route.version, &mh, err);
    if (rc != TC_OK)
        return rc;
    tc__model_metadata meta;
    if (tc__model_config_metadata(tc__model_handle_config(mh), NULL, 0, &meta) != TC_OK) {
        rc = tc__error_set(err, TC_E_NOMEM, "out of memory");
    } else {
        const uint8_t *body = r->body.data != NULL ? r->body.data : (const uint8_t *)"";
        rc = tc__v2_generate_request_decode(body, r->body.len, meta.inputs, meta.input_count,
                                            r->srv->max_input_size, &g->req, err);
        g->req_live = rc == TC_OK;
        tc__model_metadata_cleanup(&meta);
    }
    tc__model_handle_release(mh);
    if (rc != TC_OK)
        return rc;
    g->req.model_name = tc__strdup(r->route.model);
    g->req.model_version = r->route.version != NULL ? tc__strdup(r->route.version) : NULL;
    g->req.cancelled = &g->cancelled;
    if (g->req.model_name == NULL || (r->route.version != NULL && g->req.model_version == NULL))
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    return TC_OK;
}

bool tc__http_generate_start(tc__http_req *r, bool streaming, tc__http_reply *reply)
{
    const char *enc = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Encoding");
    if (enc != NULL && strcmp(enc, "identity") != 0) {
        *reply = tc__http_reply_status(400, "generate request does not support compression");
        return false;
    }
    gen *g = tc__calloc(1, sizeof *g);
    if (g == NULL) {
        *reply = tc__http_reply_status(500, "out of memory");
        return false;
    }
    atomic_init(&g->refs, 1u); /* the core job's */
    atomic_init(&g->cancelled, false);
    pthread_mutex_init(&g->lock, NULL);
    g->srv = r->srv;
    g->conn = r->conn;
    g->streaming = streaming;
    tc__error err;
    tc__error_clear(&err);
    if (decode(r, g, &err) != TC_OK) {
        /* Errors before inference: a JSON body, the status of the error. */
        *reply = tc__http_reply_error(err.code, err.msg);
        gen_unref(g);
        return false;
    }
    g->r = r;
    /* Held across the submission: a callback hands the reply over (taking
     * this lock) only once the connection is suspended. */
    pthread_mutex_lock(&r->lock);
    tc__http_suspend_locked(r);
    tc_code rc = tc__core_infer_stream_traced(r->srv->core, &g->req, NULL, stream_cb, g, &err);
    pthread_mutex_unlock(&r->lock);
    if (rc != TC_OK) {
        pthread_mutex_lock(&g->lock);
        hand_over(g, tc__http_reply_error(err.code, err.msg));
        pthread_mutex_unlock(&g->lock);
        gen_unref(g);
    }
    return true;
}
