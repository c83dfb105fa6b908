/* Test support code: plain libc (malloc is fine here, outside the library). */
#include "grpc_raw.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define MAX_STREAMS 64

typedef struct rstream {
    int32_t id;
    uint8_t *out;
    size_t out_len, out_off;
    bool end;
    bool closed;
    int header_frames;
    uint8_t *in;
    size_t in_len;
    tc_grpc_raw_reply reply;
} rstream;

struct tc_grpc_raw {
    int fd;
    nghttp2_session *s;
    rstream st[MAX_STREAMS];
    size_t n;
    bool eof;
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static rstream *find(tc_grpc_raw *c, int32_t id)
{
    for (size_t i = 0; i < c->n; i++) {
        if (c->st[i].id == id)
            return &c->st[i];
    }
    return NULL;
}

static ssize_t send_cb(nghttp2_session *s, const uint8_t *data, size_t len, int flags, void *ud)
{
    (void)s;
    (void)flags;
    tc_grpc_raw *c = ud;
    size_t off = 0;
    while (off < len) {
        ssize_t w = send(c->fd, data + off, len - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            c->eof = true;
            return NGHTTP2_ERR_CALLBACK_FAILURE;
        }
        off += (size_t)w;
    }
    return (ssize_t)len;
}

static void append_header(tc_grpc_raw_reply *r, const uint8_t *n, size_t nl, const uint8_t *v,
                          size_t vl)
{
    size_t old = r->headers ? strlen(r->headers) : 0;
    r->headers = realloc(r->headers, old + nl + vl + 4);
    memcpy(r->headers + old, n, nl);
    memcpy(r->headers + old + nl, ": ", 2);
    memcpy(r->headers + old + nl + 2, v, vl);
    r->headers[old + nl + 2 + vl] = '\n';
    r->headers[old + nl + 3 + vl] = '\0';
}

static char *percent_decode(const uint8_t *v, size_t len)
{
    char *out = malloc(len + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned x;
        char hex[3] = {0};
        if (v[i] == '%' && i + 2 < len) {
            hex[0] = (char)v[i + 1];
            hex[1] = (char)v[i + 2];
            if (sscanf(hex, "%2x", &x) == 1) {
                out[o++] = (char)x;
                i += 2;
                continue;
            }
        }
        out[o++] = (char)v[i];
    }
    out[o] = '\0';
    return out;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *n, size_t nl,
                     const uint8_t *v, size_t vl, uint8_t flags, void *ud)
{
    (void)s;
    (void)flags;
    rstream *st = find(ud, f->hd.stream_id);
    if (st == NULL)
        return 0;
    tc_grpc_raw_reply *r = &st->reply;
    append_header(r, n, nl, v, vl);
    if (nl == 7 && memcmp(n, ":status", 7) == 0)
        r->http_status = atoi((const char *)v);
    if (nl == 11 && memcmp(n, "grpc-status", 11) == 0) {
        r->grpc_status = atoi((const char *)v);
        r->trailers_only = st->header_frames == 0;
    }
    if (nl == 12 && memcmp(n, "grpc-message", 12) == 0) {
        free(r->grpc_message);
        r->grpc_message = percent_decode(v, vl);
    }
    return 0;
}

static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
    (void)s;
    tc_grpc_raw *c = ud;
    if (f->hd.type == NGHTTP2_GOAWAY)
        c->eof = true;
    rstream *st = find(c, f->hd.stream_id);
    if (st != NULL && f->hd.type == NGHTTP2_HEADERS)
        st->header_frames++;
    return 0;
}

static uint8_t *inflate_msg(const uint8_t *in, size_t len, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    inflateInit2(&zs, 15 + 32);
    size_t cap = len * 4 + 1024;
    uint8_t *out = malloc(cap);
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)len;
    int zr;
    do {
        if (zs.total_out == cap) {
            cap *= 2;
            out = realloc(out, cap);
        }
        zs.next_out = out + zs.total_out;
        zs.avail_out = (uInt)(cap - zs.total_out);
        zr = inflate(&zs, Z_NO_FLUSH);
    } while (zr == Z_OK);
    *out_len = zs.total_out;
    inflateEnd(&zs);
    return out;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
                   void *ud)
{
    (void)s;
    (void)flags;
    rstream *st = find(ud, id);
    if (st == NULL)
        return 0;
    st->in = realloc(st->in, st->in_len + len + 1);
    memcpy(st->in + st->in_len, data, len);
    st->in_len += len;
    for (;;) {
        if (st->in_len < 5)
            break;
        uint32_t mlen = ((uint32_t)st->in[1] << 24) | ((uint32_t)st->in[2] << 16) |
                        ((uint32_t)st->in[3] << 8) | st->in[4];
        if (st->in_len < 5 + (size_t)mlen)
            break;
        tc_grpc_raw_reply *r = &st->reply;
        r->msgs = realloc(r->msgs, (r->count + 1) * sizeof *r->msgs);
        r->lens = realloc(r->lens, (r->count + 1) * sizeof *r->lens);
        if (st->in[0] == 1) {
            r->compressed_seen = true;
            r->msgs[r->count] = inflate_msg(st->in + 5, mlen, &r->lens[r->count]);
        } else {
            r->msgs[r->count] = malloc(mlen + 1);
            memcpy(r->msgs[r->count], st->in + 5, mlen);
            r->lens[r->count] = mlen;
        }
        r->count++;
        memmove(st->in, st->in + 5 + mlen, st->in_len - 5 - mlen);
        st->in_len -= 5 + (size_t)mlen;
    }
    return 0;
}

static int on_close(nghttp2_session *s, int32_t id, uint32_t code, void *ud)
{
    (void)s;
    rstream *st = find(ud, id);
    if (st == NULL)
        return 0;
    st->closed = true;
    st->reply.reset = code != NGHTTP2_NO_ERROR;
    st->reply.rst_code = code;
    return 0;
}

int tc_grpc_raw_connect(tc_grpc_raw **out, int port)
{
    tc_grpc_raw *c = calloc(1, sizeof *c);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        if (c->fd >= 0)
            close(c->fd);
        free(c);
        return -1;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    nghttp2_session_callbacks *cbs;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_send_callback(cbs, send_cb);
    nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_close);
    nghttp2_session_client_new(&c->s, cbs, c);
    nghttp2_session_callbacks_del(cbs);
    /* What grpcio 1.51 announces (golden/README.md). */
    nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
                                   {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 0},
                                   {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 4194303},
                                   {NGHTTP2_SETTINGS_MAX_FRAME_SIZE, 4194303},
                                   {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, 8192}};
    nghttp2_submit_settings(c->s, NGHTTP2_FLAG_NONE, iv, sizeof iv / sizeof iv[0]);
    nghttp2_session_set_local_window_size(c->s, NGHTTP2_FLAG_NONE, 0, 1 << 24);
    nghttp2_submit_ping(c->s, NGHTTP2_FLAG_NONE, NULL);
    if (nghttp2_session_send(c->s) != 0) {
        tc_grpc_raw_close(c);
        return -1;
    }
    *out = c;
    return 0;
}

void tc_grpc_raw_close(tc_grpc_raw *c)
{
    if (c == NULL)
        return;
    close(c->fd);
    nghttp2_session_del(c->s);
    for (size_t i = 0; i < c->n; i++) {
        free(c->st[i].out);
        free(c->st[i].in);
        tc_grpc_raw_reply_free(&c->st[i].reply);
    }
    free(c);
}

static ssize_t read_cb(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                       nghttp2_data_source *src, void *ud)
{
    (void)s;
    (void)id;
    (void)ud;
    rstream *st = src->ptr;
    size_t avail = st->out_len - st->out_off;
    size_t n = avail < len ? avail : len;
    if (n > 0)
        memcpy(buf, st->out + st->out_off, n);
    st->out_off += n;
    if (st->out_off == st->out_len) {
        if (st->end)
            *flags |= NGHTTP2_DATA_FLAG_EOF;
        else if (n == 0)
            return NGHTTP2_ERR_DEFERRED;
    }
    return (ssize_t)n;
}

int32_t tc_grpc_raw_start(tc_grpc_raw *c, const char *path, const char *extra)
{
    if (c->n == MAX_STREAMS)
        return -1;
    nghttp2_nv nva[32];
    size_t n = 0;
#define NV(a, b) (nghttp2_nv){(uint8_t *)(a), (uint8_t *)(b), strlen(a), strlen(b), 0}
    nva[n++] = NV(":method", "POST");
    nva[n++] = NV(":scheme", "http");
    nva[n++] = NV(":path", path);
    nva[n++] = NV(":authority", "127.0.0.1");
    bool ct = extra != NULL && strstr(extra, "content-type:") != NULL;
    if (!ct)
        nva[n++] = NV("content-type", "application/grpc");
    nva[n++] = NV("te", "trailers");
    nva[n++] = NV("grpc-accept-encoding", "identity, deflate, gzip");
    char *copy = extra != NULL ? strdup(extra) : NULL;
    for (char *line = copy; line != NULL && *line != '\0' && n < 30;) {
        char *nl = strchr(line, '\n');
        if (nl != NULL)
            *nl = '\0';
        char *colon = strchr(line, ':');
        if (colon != NULL && colon != line) {
            *colon = '\0';
            char *v = colon + 1;
            while (*v == ' ')
                v++;
            nva[n++] = NV(line, v);
        }
        line = nl != NULL ? nl + 1 : NULL;
    }
#undef NV
    rstream *st = &c->st[c->n];
    memset(st, 0, sizeof *st);
    st->reply.grpc_status = -1;
    nghttp2_data_provider prd;
    prd.source.ptr = st;
    prd.read_callback = read_cb;
    int32_t id = nghttp2_submit_request(c->s, NULL, nva, n, &prd, NULL);
    free(copy);
    if (id < 0)
        return -1;
    st->id = id;
    c->n++;
    nghttp2_session_send(c->s);
    return id;
}

int tc_grpc_raw_send(tc_grpc_raw *c, int32_t sid, const void *data, size_t len, bool end)
{
    rstream *st = find(c, sid);
    if (st == NULL)
        return -1;
    st->out = realloc(st->out, st->out_len + len + 1);
    if (len > 0)
        memcpy(st->out + st->out_len, data, len);
    st->out_len += len;
    st->end = st->end || end;
    nghttp2_session_resume_data(c->s, sid);
    return nghttp2_session_send(c->s) == 0 ? 0 : -1;
}

int tc_grpc_raw_reset(tc_grpc_raw *c, int32_t sid)
{
    nghttp2_submit_rst_stream(c->s, NGHTTP2_FLAG_NONE, sid, NGHTTP2_CANCEL);
    return nghttp2_session_send(c->s) == 0 ? 0 : -1;
}

static void pump(tc_grpc_raw *c, int timeout_ms)
{
    nghttp2_session_send(c->s);
    struct pollfd pfd = {c->fd, POLLIN, 0};
    if (poll(&pfd, 1, timeout_ms) <= 0)
        return;
    uint8_t buf[65536];
    ssize_t r = recv(c->fd, buf, sizeof buf, 0);
    if (r <= 0) {
        c->eof = true;
        return;
    }
    if (nghttp2_session_mem_recv(c->s, buf, (size_t)r) < 0)
        c->eof = true;
    nghttp2_session_send(c->s);
}

static void copy_reply(const tc_grpc_raw_reply *in, tc_grpc_raw_reply *out)
{
    *out = *in;
    out->grpc_message = strdup(in->grpc_message ? in->grpc_message : "");
    out->headers = strdup(in->headers ? in->headers : "");
    out->msgs = calloc(in->count + 1, sizeof *out->msgs);
    out->lens = calloc(in->count + 1, sizeof *out->lens);
    for (size_t i = 0; i < in->count; i++) {
        out->msgs[i] = malloc(in->lens[i] + 1);
        memcpy(out->msgs[i], in->msgs[i], in->lens[i]);
        out->lens[i] = in->lens[i];
    }
}

int tc_grpc_raw_wait(tc_grpc_raw *c, int32_t sid, size_t min_msgs, int timeout_ms,
                     tc_grpc_raw_reply *reply)
{
    long long deadline = now_ms() + timeout_ms;
    rstream *st = find(c, sid);
    int rc = -1;
    while (st != NULL) {
        bool done = min_msgs > 0 ? st->reply.count >= min_msgs : st->closed;
        if (done) {
            rc = 0;
            break;
        }
        long long left = deadline - now_ms();
        if (left <= 0 || (c->eof && !st->closed))
            break;
        pump(c, left < 50 ? (int)left : 50);
    }
    memset(reply, 0, sizeof *reply);
    if (st != NULL)
        copy_reply(&st->reply, reply);
    return rc;
}

bool tc_grpc_raw_closed(tc_grpc_raw *c)
{
    for (int i = 0; i < 40 && !c->eof; i++)
        pump(c, 50);
    return c->eof;
}

int tc_grpc_raw_call(tc_grpc_raw *c, const char *path, const char *extra, const void *body,
                     size_t len, tc_grpc_raw_reply *reply)
{
    int32_t id = tc_grpc_raw_start(c, path, extra);
    if (id < 0 || tc_grpc_raw_send(c, id, body, len, true) != 0) {
        memset(reply, 0, sizeof *reply);
        reply->grpc_status = -1;
        return -1;
    }
    return tc_grpc_raw_wait(c, id, 0, 10000, reply);
}

uint8_t *tc_grpc_raw_frame(const void *msg, size_t len, size_t *out_len)
{
    uint8_t *f = malloc(len + 5);
    f[0] = 0;
    f[1] = (uint8_t)(len >> 24);
    f[2] = (uint8_t)(len >> 16);
    f[3] = (uint8_t)(len >> 8);
    f[4] = (uint8_t)len;
    if (len > 0)
        memcpy(f + 5, msg, len);
    *out_len = len + 5;
    return f;
}

void tc_grpc_raw_reply_free(tc_grpc_raw_reply *r)
{
    free(r->grpc_message);
    free(r->headers);
    for (size_t i = 0; i < r->count; i++)
        free(r->msgs[i]);
    free(r->msgs);
    free(r->lens);
    memset(r, 0, sizeof *r);
    r->grpc_status = -1;
}

const char *tc_grpc_raw_header(const tc_grpc_raw_reply *r, const char *name)
{
    static char value[1024];
    size_t nl = strlen(name);
    for (const char *p = r->headers; p != NULL && *p != '\0';) {
        const char *eol = strchr(p, '\n');
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            size_t vl = (size_t)(eol - p) - nl - 2;
            if (vl >= sizeof value)
                vl = sizeof value - 1;
            memcpy(value, p + nl + 2, vl);
            value[vl] = '\0';
            return value;
        }
        p = eol != NULL ? eol + 1 : NULL;
    }
    return NULL;
}
