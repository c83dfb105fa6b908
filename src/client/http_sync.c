/* The sync HTTP/1.1 transport of plain http:// clients: see http_sync.h.
 * Sections: set-up, socket I/O with deadlines, the request, the response
 * head, the response body (length, chunked, to EOF, decompression), and the
 * exchange with its one resend on a dead keep-alive connection. */
#include "client/http_sync.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <zlib.h>

#include "common/alloc.h"
#include "common/timeutil.h"
#include "proto/v2_json.h"

#define HEAD_MAX           (64u * 1024u)            /* status line + headers of one response */
#define READ_CHUNK         (16u * 1024u)            /* receive size when the length is unknown */
#define READ_MAX           (4u * 1024u * 1024u)     /* largest single reservation */
#define CHUNK_LINE_MAX     4096u                    /* a chunk-size or trailer line */
#define MAX_INTERIM        8                        /* 1xx answers tolerated before the real one */
#define DEFAULT_CONNECT_US (300ull * 1000u * 1000u) /* libcurl's default */
#define STACK_IOV          16
#define SEND_IOV_MAX       1024 /* Linux UIO_MAXIOV */

enum { ENC_NONE, ENC_GZIP, ENC_DEFLATE };

struct tc__hsync {
    int fd;            /* -1 when not connected */
    bool stale;        /* the last failure says the kept connection had died */
    bool got_bytes;    /* a byte of the current response arrived: never resend */
    uint64_t first_byte_ns; /* when that first byte arrived (monotonic) */
    char *host;        /* for getaddrinfo: IPv6 brackets stripped */
    char port[8];      /* decimal */
    char *authority;   /* the Host header: as written in the URL */
    size_t origin_len; /* strlen("http://" authority): request targets follow it */
    uint64_t connect_timeout_us;
    tc__buf head; /* request head, reused */
};

/* What the response head said; reset for every (interim) response. */
typedef struct resp {
    tc__buf *b; /* the transfer's response buffer */
    long status;
    bool close; /* the connection ends with this response */
    bool chunked;
    bool has_length;
    size_t length;
    int encoding;
    size_t header_len; /* Inference-Header-Content-Length */
} resp;

/* ---- set-up ------------------------------------------------------------------ */

static bool proxy_in_env(void)
{
    static const char *const names[] = {"http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = getenv(names[i]);
        if (v != NULL && v[0] != '\0')
            return true;
    }
    return false;
}

/* Split "host[:port]" or "[v6][:port]" (length n) into s->host and s->port. */
static tc_code split_authority(tc__hsync *s, const char *a, size_t n)
{
    const char *host = a;
    size_t host_len = n;
    const char *port = NULL;
    if (n > 0 && a[0] == '[') {
        const char *close = memchr(a, ']', n);
        if (close == NULL)
            return TC_E_NOT_SUPPORTED;
        host = a + 1;
        host_len = (size_t)(close - host);
        if (close + 1 < a + n) {
            if (close[1] != ':')
                return TC_E_NOT_SUPPORTED;
            port = close + 2;
        }
    } else {
        const char *colon = memchr(a, ':', n);
        if (colon != NULL) {
            host_len = (size_t)(colon - a);
            port = colon + 1;
        }
    }
    size_t port_len = port != NULL ? n - (size_t)(port - a) : 0;
    if (host_len == 0 || port_len >= sizeof s->port || memchr(host, '@', host_len) != NULL)
        return TC_E_NOT_SUPPORTED;
    for (size_t i = 0; i < port_len; i++) {
        if (port[i] < '0' || port[i] > '9')
            return TC_E_NOT_SUPPORTED;
    }
    memcpy(s->port, port_len > 0 ? port : "80", port_len > 0 ? port_len : 3);
    s->host = tc__strndup(host, host_len);
    return s->host != NULL ? TC_OK : TC_E_NOMEM;
}

static tc_code parse_base_url(tc__hsync *s, const char *url)
{
    static const char scheme[] = "http://";
    if (strncasecmp(url, scheme, sizeof scheme - 1) != 0)
        return TC_E_NOT_SUPPORTED;
    const char *a = url + sizeof scheme - 1;
    size_t n = strcspn(a, "/?#");
    if (n == 0 || memchr(a, '@', n) != NULL)
        return TC_E_NOT_SUPPORTED; /* user info: curl sends it as Basic auth */
    tc_code rc = split_authority(s, a, n);
    if (rc != TC_OK)
        return rc;
    s->authority = tc__strndup(a, n);
    s->origin_len = (size_t)(a - url) + n;
    return s->authority != NULL ? TC_OK : TC_E_NOMEM;
}

tc_code tc__hsync_new(tc__hsync **out, const char *base_url, const struct tc_http_options *o)
{
    *out = NULL;
    if (o->verbose || proxy_in_env())
        return TC_E_NOT_SUPPORTED;
    tc__hsync *s = tc__calloc(1, sizeof *s);
    if (s == NULL)
        return TC_E_NOMEM;
    s->fd = -1;
    s->connect_timeout_us = o->connect_timeout_us > 0 ? o->connect_timeout_us : DEFAULT_CONNECT_US;
    tc_code rc = parse_base_url(s, base_url);
    if (rc != TC_OK) {
        tc__hsync_free(s);
        return rc;
    }
    *out = s;
    return TC_OK;
}

static void close_conn(tc__hsync *s)
{
    if (s->fd >= 0)
        (void)close(s->fd);
    s->fd = -1;
}

void tc__hsync_free(tc__hsync *s)
{
    if (s == NULL)
        return;
    close_conn(s);
    tc__free(s->host);
    tc__free(s->authority);
    tc__buf_cleanup(&s->head);
    tc__free(s);
}

/* ---- socket I/O with deadlines ------------------------------------------------ */

/* Milliseconds to `deadline_ns` for poll(): -1 = none, 0 = passed. */
static int remaining_ms(uint64_t deadline_ns)
{
    if (deadline_ns == 0)
        return -1;
    uint64_t now = tc__now_ns();
    if (now >= deadline_ns)
        return 0;
    uint64_t ms = (deadline_ns - now + 999999u) / 1000000u;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* Wait until `fd` is ready for `events`. TC_E_TIMEOUT at the deadline;
 * TC_E_TRANSPORT (errno kept) when poll fails. */
static tc_code wait_fd(int fd, short events, uint64_t deadline_ns)
{
    for (;;) {
        int ms = remaining_ms(deadline_ns);
        if (ms == 0)
            return TC_E_TIMEOUT;
        struct pollfd p = {.fd = fd, .events = events, .revents = 0};
        int n = poll(&p, 1, ms);
        if (n > 0)
            return TC_OK;
        if (n < 0 && errno != EINTR)
            return TC_E_TRANSPORT;
    }
}

static tc_code timeout_error(tc__error *err)
{
    return tc__error_set(err, TC_E_TIMEOUT, "Timeout was reached: no complete answer in time");
}

/* Receive at most `want` bytes at the end of `b`; *got = 0 means EOF. */
static tc_code recv_some(tc__hsync *s, tc__buf *b, size_t want, uint64_t deadline_ns, size_t *got,
                         tc__error *err)
{
    if (tc__buf_reserve(b, want) != TC_OK)
        return tc__error_set(err, TC_E_NOMEM, "out of memory reading the response");
    for (;;) {
        if (deadline_ns != 0) {
            tc_code rc = wait_fd(s->fd, POLLIN, deadline_ns);
            if (rc == TC_E_TIMEOUT)
                return timeout_error(err);
            if (rc != TC_OK)
                return tc__error_set(err, rc, "Recv failure: %s", strerror(errno));
        }
        ssize_t n = recv(s->fd, b->data + b->len, want, deadline_ns != 0 ? MSG_DONTWAIT : 0);
        if (n >= 0) {
            b->len += (size_t)n;
            b->data[b->len] = '\0';
            *got = (size_t)n;
            if (!s->got_bytes && n > 0)
                s->first_byte_ns = tc__now_ns();
            s->got_bytes = s->got_bytes || n > 0;
            return TC_OK;
        }
        if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
            continue;
        s->stale = errno == ECONNRESET && !s->got_bytes;
        return tc__error_set(err, TC_E_TRANSPORT, "Recv failure: %s", strerror(errno));
    }
}

/* Drop the first `w` bytes of the iovec list (*v, *n). */
static void iov_advance(struct iovec **v, size_t *n, size_t w)
{
    while (*n > 0 && w >= (*v)->iov_len) {
        w -= (*v)->iov_len;
        (*v)++;
        (*n)--;
    }
    if (*n > 0) {
        (*v)->iov_base = (char *)(*v)->iov_base + w;
        (*v)->iov_len -= w;
    }
}

static tc_code send_all(tc__hsync *s, struct iovec *v, size_t n, uint64_t deadline_ns,
                        tc__error *err)
{
    int flags = MSG_NOSIGNAL | (deadline_ns != 0 ? MSG_DONTWAIT : 0);
    while (n > 0) {
        struct msghdr m;
        memset(&m, 0, sizeof m);
        m.msg_iov = v;
        m.msg_iovlen = n > SEND_IOV_MAX ? SEND_IOV_MAX : n;
        ssize_t w = sendmsg(s->fd, &m, flags);
        if (w >= 0) {
            iov_advance(&v, &n, (size_t)w);
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            tc_code rc = wait_fd(s->fd, POLLOUT, deadline_ns);
            if (rc == TC_E_TIMEOUT)
                return timeout_error(err);
            if (rc == TC_OK)
                continue;
        }
        s->stale = errno == EPIPE || errno == ECONNRESET;
        return tc__error_set(err, TC_E_TRANSPORT, "Send failure: %s", strerror(errno));
    }
    return TC_OK;
}

/* Connect one address within the deadline; *err_no says why not. */
static tc_code connect_addr(const struct addrinfo *ai, uint64_t deadline_ns, int *out, int *err_no)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
        *err_no = errno;
        return TC_E_TRANSPORT;
    }
    tc_code rc = TC_OK;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        rc = errno == EINPROGRESS ? wait_fd(fd, POLLOUT, deadline_ns) : TC_E_TRANSPORT;
        *err_no = errno;
        int so = 0;
        socklen_t len = sizeof so;
        if (rc == TC_OK && getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &len) == 0 && so != 0) {
            *err_no = so;
            rc = TC_E_TRANSPORT;
        }
    }
    int one = 1;
    int fl = fcntl(fd, F_GETFL);
    if (rc == TC_OK && (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0 ||
                        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)) {
        *err_no = errno;
        rc = TC_E_TRANSPORT;
    }
    if (rc != TC_OK)
        (void)close(fd);
    else
        *out = fd;
    return rc;
}

static tc_code open_conn(tc__hsync *s, uint64_t deadline_ns, tc__error *err)
{
    uint64_t cdl = tc__now_ns() + s->connect_timeout_us * 1000u;
    if (deadline_ns != 0 && deadline_ns < cdl)
        cdl = deadline_ns;
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    struct addrinfo *res = NULL;
    int g = getaddrinfo(s->host, s->port, &hints, &res);
    if (g != 0)
        return tc__error_set(err, TC_E_TRANSPORT, "Could not resolve host: %s (%s)", s->host,
                             gai_strerror(g));
    tc_code rc = TC_E_TRANSPORT;
    int err_no = 0;
    for (struct addrinfo *ai = res; ai != NULL && rc == TC_E_TRANSPORT; ai = ai->ai_next)
        rc = connect_addr(ai, cdl, &s->fd, &err_no);
    freeaddrinfo(res);
    if (rc == TC_E_TIMEOUT)
        return tc__error_set(err, rc, "Timeout was reached: cannot connect to %s port %s in time",
                             s->host, s->port);
    if (rc != TC_OK)
        return tc__error_set(err, rc, "Failed to connect to %s port %s: %s", s->host, s->port,
                             strerror(err_no));
    return TC_OK;
}

/* ---- the request --------------------------------------------------------------- */

enum { SEEN_HOST = 1, SEEN_ACCEPT = 2 };

static bool name_is(const char *name, size_t len, const char *want)
{
    return strlen(want) == len && strncasecmp(name, want, len) == 0;
}

/* One curl-style header line from the transfer: "Name: value" goes out as
 * is, "Name:" with no value removes a header (as with curl), "Name;" sends
 * an empty value. The body framing headers are ours alone. */
static tc_code put_user_header(tc__buf *b, const char *line, unsigned *seen)
{
    size_t n = strlen(line);
    const char *colon = memchr(line, ':', n);
    if (colon == NULL) {
        if (n < 2 || line[n - 1] != ';')
            return TC_OK;
        tc_code rc = tc__buf_append(b, line, n - 1);
        return rc == TC_OK ? tc__buf_append(b, ":\r\n", 3) : rc;
    }
    size_t name_len = (size_t)(colon - line);
    if (name_is(line, name_len, "Host"))
        *seen |= SEEN_HOST;
    else if (name_is(line, name_len, "Accept"))
        *seen |= SEEN_ACCEPT;
    else if (name_is(line, name_len, "Content-Length") ||
             name_is(line, name_len, "Transfer-Encoding"))
        return TC_OK;
    const char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    if (*v == '\0')
        return TC_OK;
    tc_code rc = tc__buf_append(b, line, n);
    return rc == TC_OK ? tc__buf_append(b, "\r\n", 2) : rc;
}

static tc_code put_decimal(tc__buf *b, size_t v)
{
    char tmp[24];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    return tc__buf_append(b, tmp + i, sizeof tmp - i);
}

static size_t body_len(const tc__xfer *x)
{
    if (!x->post)
        return 0;
    if (x->iov_count == 0)
        return x->body.len;
    size_t total = 0;
    for (size_t i = 0; i < x->iov_count; i++)
        total += x->iov[i].len;
    return total;
}

/* Request line; the target must be printable ASCII without spaces. */
static tc_code put_request_line(tc__hsync *s, const tc__xfer *x, tc__error *err)
{
    const char *target = x->url + s->origin_len;
    size_t n = strlen(target);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)target[i];
        if (c <= 0x20 || c >= 0x7f)
            return tc__error_set(err, TC_E_TRANSPORT, "URL using bad/illegal format: %s", x->url);
    }
    tc__buf *b = &s->head;
    tc_code rc = tc__buf_append_str(b, x->post ? "POST " : "GET ");
    if (rc == TC_OK)
        rc = n > 0 ? tc__buf_append(b, target, n) : tc__buf_append(b, "/", 1);
    if (rc == TC_OK)
        rc = tc__buf_append(b, " HTTP/1.1\r\n", 11);
    return rc == TC_OK ? TC_OK : tc__error_set(err, rc, "out of memory");
}

static tc_code build_head(tc__hsync *s, const tc__xfer *x, tc__error *err)
{
    tc__buf *b = &s->head;
    tc__buf_reset(b);
    tc_code rc = put_request_line(s, x, err);
    if (rc != TC_OK)
        return rc;
    unsigned seen = 0;
    for (const struct curl_slist *l = x->headers; l != NULL && rc == TC_OK; l = l->next)
        rc = put_user_header(b, l->data, &seen);
    if (rc == TC_OK && !(seen & SEEN_HOST)) {
        rc = tc__buf_append(b, "Host: ", 6);
        if (rc == TC_OK)
            rc = tc__buf_append_str(b, s->authority);
        if (rc == TC_OK)
            rc = tc__buf_append(b, "\r\n", 2);
    }
    if (rc == TC_OK && !(seen & SEEN_ACCEPT))
        rc = tc__buf_append_str(b, "Accept: */*\r\n");
    if (rc == TC_OK && x->accept_encoding != NULL) {
        rc = tc__buf_append_str(b, "Accept-Encoding: ");
        if (rc == TC_OK)
            rc = tc__buf_append_str(b, x->accept_encoding);
        if (rc == TC_OK)
            rc = tc__buf_append(b, "\r\n", 2);
    }
    if (rc == TC_OK && x->post) {
        rc = tc__buf_append_str(b, "Content-Length: ");
        if (rc == TC_OK)
            rc = put_decimal(b, body_len(x));
        if (rc == TC_OK)
            rc = tc__buf_append(b, "\r\n", 2);
    }
    if (rc == TC_OK)
        rc = tc__buf_append(b, "\r\n", 2);
    return rc == TC_OK ? TC_OK : tc__error_set(err, rc, "out of memory");
}

/* The head and the body pieces, zero-copy, in one sendmsg when they fit. */
static tc_code send_request(tc__hsync *s, const tc__xfer *x, uint64_t deadline_ns, tc__error *err)
{
    size_t pieces = !x->post ? 0 : x->iov_count > 0 ? x->iov_count : 1;
    struct iovec stack[STACK_IOV];
    struct iovec *v = stack;
    if (1 + pieces > STACK_IOV) {
        v = tc__calloc(1 + pieces, sizeof *v);
        if (v == NULL)
            return tc__error_set(err, TC_E_NOMEM, "out of memory");
    }
    v[0].iov_base = s->head.data;
    v[0].iov_len = s->head.len;
    if (pieces > 0 && x->iov_count == 0) {
        v[1].iov_base = x->body.data;
        v[1].iov_len = x->body.len;
    }
    for (size_t i = 0; i < x->iov_count && x->post; i++) {
        v[1 + i].iov_base = (void *)(uintptr_t)x->iov[i].data;
        v[1 + i].iov_len = x->iov[i].len;
    }
    tc_code rc = send_all(s, v, 1 + pieces, deadline_ns, err);
    if (v != stack)
        tc__free(v);
    return rc;
}

/* ---- the response head ---------------------------------------------------------- */

static tc_code protocol_error(tc__error *err, const char *what)
{
    return tc__error_set(err, TC_E_PROTOCOL, "malformed HTTP response: %s", what);
}

/* Trim spaces and tabs around [*v, *v + *n). */
static void trim(const char **v, size_t *n)
{
    while (*n > 0 && (**v == ' ' || **v == '\t')) {
        (*v)++;
        (*n)--;
    }
    while (*n > 0 && ((*v)[*n - 1] == ' ' || (*v)[*n - 1] == '\t'))
        (*n)--;
}

/* Decimal digits only; false on overflow or anything else. */
static bool parse_size(const char *v, size_t n, size_t *out)
{
    size_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9' || x > (SIZE_MAX - 9) / 10)
            return false;
        x = x * 10 + (size_t)(v[i] - '0');
    }
    *out = x;
    return n > 0;
}

/* Whether the comma-separated list [v, v + n) holds `token` (any case). */
static bool has_token(const char *v, size_t n, const char *token)
{
    size_t tl = strlen(token);
    while (n > 0) {
        const char *comma = memchr(v, ',', n);
        size_t len = comma != NULL ? (size_t)(comma - v) : n;
        const char *t = v;
        size_t t_len = len;
        trim(&t, &t_len);
        if (t_len == tl && strncasecmp(t, token, tl) == 0)
            return true;
        v += len;
        n -= len;
        if (n > 0) {
            v++;
            n--;
        }
    }
    return false;
}

static tc_code parse_encoding(resp *r, const char *v, size_t n, tc__error *err)
{
    if (n == 0 || (n == 8 && strncasecmp(v, "identity", 8) == 0))
        r->encoding = ENC_NONE;
    else if ((n == 4 && strncasecmp(v, "gzip", 4) == 0) ||
             (n == 6 && strncasecmp(v, "x-gzip", 6) == 0))
        r->encoding = ENC_GZIP;
    else if (n == 7 && strncasecmp(v, "deflate", 7) == 0)
        r->encoding = ENC_DEFLATE;
    else
        return protocol_error(err, "unsupported Content-Encoding");
    return TC_OK;
}

static tc_code parse_header(resp *r, const char *l, size_t n, tc__error *err)
{
    const char *colon = memchr(l, ':', n);
    if (colon == NULL || colon == l)
        return protocol_error(err, "header line without a name");
    size_t name_len = (size_t)(colon - l);
    const char *v = colon + 1;
    size_t vn = n - name_len - 1;
    trim(&v, &vn);
    size_t num = 0;
    if (name_is(l, name_len, "Content-Length")) {
        if (!parse_size(v, vn, &num) || (r->has_length && num != r->length))
            return protocol_error(err, "bad Content-Length");
        r->has_length = true;
        r->length = num;
    } else if (name_is(l, name_len, "Transfer-Encoding")) {
        if (!has_token(v, vn, "chunked"))
            return protocol_error(err, "unsupported Transfer-Encoding");
        r->chunked = true;
    } else if (name_is(l, name_len, "Content-Encoding")) {
        return parse_encoding(r, v, vn, err);
    } else if (name_is(l, name_len, "Inference-Header-Content-Length")) {
        if (parse_size(v, vn, &num))
            r->header_len = num;
    } else if (name_is(l, name_len, "Connection")) {
        if (has_token(v, vn, "close"))
            r->close = true;
        else if (has_token(v, vn, "keep-alive"))
            r->close = false;
    }
    return TC_OK;
}

/* "HTTP/1.x SSS[ reason]" */
static tc_code parse_status(resp *r, const char *l, size_t n, tc__error *err)
{
    if (n < 12 || memcmp(l, "HTTP/1.", 7) != 0 || (l[7] != '0' && l[7] != '1') || l[8] != ' ' ||
        (n > 12 && l[12] != ' '))
        return protocol_error(err, "bad status line");
    long status = 0;
    for (size_t i = 9; i < 12; i++) {
        if (l[i] < '0' || l[i] > '9')
            return protocol_error(err, "bad status code");
        status = status * 10 + (l[i] - '0');
    }
    if (status < 100)
        return protocol_error(err, "bad status code");
    r->status = status;
    r->close = l[7] == '0'; /* HTTP/1.0 closes unless it says keep-alive */
    return TC_OK;
}

/* Parse the head [h, h + n) (it ends with an empty line). */
static tc_code parse_head(resp *r, const char *h, size_t n, tc__error *err)
{
    tc__buf *b = r->b;
    memset(r, 0, sizeof *r);
    r->b = b;
    r->header_len = TC__NO_HEADER_LENGTH;
    tc_code rc = TC_OK;
    for (size_t off = 0, line = 0; off < n && rc == TC_OK; line++) {
        const char *nl = memchr(h + off, '\n', n - off);
        size_t end = nl != NULL ? (size_t)(nl - h) : n;
        size_t len = end - off;
        if (len > 0 && h[off + len - 1] == '\r')
            len--;
        if (line == 0)
            rc = parse_status(r, h + off, len, err);
        else if (len > 0 && h[off] != ' ' && h[off] != '\t') /* folded lines are ignored */
            rc = parse_header(r, h + off, len, err);
        off = end + 1;
    }
    return rc;
}

/* Offset just past the empty line ending the head, or 0 if not there yet.
 * *scanned remembers how far earlier calls looked. */
static size_t find_head_end(const tc__buf *b, size_t *scanned)
{
    size_t i = *scanned > 3 ? *scanned - 3 : 0;
    while (i < b->len) {
        const uint8_t *nl = memchr(b->data + i, '\n', b->len - i);
        if (nl == NULL)
            break;
        i = (size_t)(nl - b->data) + 1;
        if (i < b->len && b->data[i] == '\n')
            return i + 1;
        if (i + 1 < b->len && b->data[i] == '\r' && b->data[i + 1] == '\n')
            return i + 2;
    }
    *scanned = b->len;
    return 0;
}

static tc_code eof_error(const tc__hsync *s, tc__error *err)
{
    if (!s->got_bytes)
        return tc__error_set(err, TC_E_TRANSPORT, "Empty reply from server");
    return tc__error_set(err, TC_E_PROTOCOL,
                         "connection closed before the end of the HTTP response");
}

/* Read and parse one response head; leave the bytes after it in r->b. */
static tc_code read_head(tc__hsync *s, resp *r, uint64_t deadline_ns, tc__error *err)
{
    tc__buf *b = r->b;
    size_t scanned = 0;
    for (;;) {
        size_t end = find_head_end(b, &scanned);
        if (end > 0) {
            tc_code rc = parse_head(r, (const char *)b->data, end, err);
            memmove(b->data, b->data + end, b->len - end);
            b->len -= end;
            b->data[b->len] = '\0';
            return rc;
        }
        if (b->len >= HEAD_MAX)
            return protocol_error(err, "headers too large");
        size_t got = 0;
        tc_code rc = recv_some(s, b, READ_CHUNK, deadline_ns, &got, err);
        if (rc != TC_OK)
            return rc;
        if (got == 0) {
            s->stale = !s->got_bytes;
            return eof_error(s, err);
        }
    }
}

/* ---- the response body ------------------------------------------------------------ */

static size_t read_size(size_t left)
{
    if (left < READ_CHUNK)
        return READ_CHUNK;
    return left > READ_MAX ? READ_MAX : left;
}

static tc_code read_length(tc__hsync *s, resp *r, uint64_t deadline_ns, tc__error *err)
{
    tc__buf *b = r->b;
    if (b->len > r->length) { /* bytes past the body: the connection is out of step */
        b->len = r->length;
        b->data[b->len] = '\0';
        r->close = true;
    }
    while (b->len < r->length) {
        size_t left = r->length - b->len;
        size_t got = 0;
        tc_code rc = recv_some(s, b, left > READ_MAX ? READ_MAX : left, deadline_ns, &got, err);
        if (rc != TC_OK)
            return rc;
        if (got == 0)
            return eof_error(s, err);
    }
    return TC_OK;
}

static tc_code read_to_eof(tc__hsync *s, resp *r, uint64_t deadline_ns, tc__error *err)
{
    r->close = true;
    for (;;) {
        size_t got = 0;
        tc_code rc = recv_some(s, r->b, READ_CHUNK, deadline_ns, &got, err);
        if (rc != TC_OK || got == 0)
            return rc;
    }
}

/* Chunked decoding in place: decoded data gathers at the front of the
 * buffer (`out` bytes) while raw input is parsed from `pos`. */
enum { CH_SIZE, CH_DATA, CH_DATA_END, CH_TRAILER, CH_DONE };

typedef struct chunker {
    size_t out;
    size_t pos;
    size_t left; /* data bytes left in the current chunk */
    int state;
} chunker;

static bool parse_chunk_size(const char *l, size_t n, size_t *out)
{
    size_t x = 0;
    size_t i = 0;
    for (; i < n; i++) {
        char c = l[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            break;
        if (x > (SIZE_MAX >> 4))
            return false;
        x = (x << 4) | (size_t)d;
    }
    if (i == 0 || (i < n && l[i] != ';' && l[i] != ' ' && l[i] != '\t'))
        return false;
    *out = x;
    return true;
}

/* One line-based step (size, CRLF after data, trailer). False: need more. */
static bool chunk_line(chunker *c, tc__buf *b, tc_code *rc, tc__error *err)
{
    size_t avail = b->len - c->pos;
    const char *l = (const char *)b->data + c->pos;
    const char *nl = memchr(l, '\n', avail);
    if (nl == NULL) {
        if (avail > CHUNK_LINE_MAX)
            *rc = protocol_error(err, "chunk line too long");
        return false;
    }
    size_t len = (size_t)(nl - l);
    c->pos += len + 1;
    if (len > 0 && l[len - 1] == '\r')
        len--;
    if (c->state == CH_SIZE) {
        if (!parse_chunk_size(l, len, &c->left))
            *rc = protocol_error(err, "bad chunk size");
        c->state = c->left > 0 ? CH_DATA : CH_TRAILER;
    } else if (c->state == CH_DATA_END) {
        if (len != 0)
            *rc = protocol_error(err, "chunk data longer than its size");
        c->state = CH_SIZE;
    } else if (len == 0) {
        c->state = CH_DONE; /* end of the trailer section */
    }
    return *rc == TC_OK;
}

/* Decode what the buffer holds; stop when more input is needed. */
static tc_code chunk_feed(chunker *c, tc__buf *b, tc__error *err)
{
    tc_code rc = TC_OK;
    while (c->state != CH_DONE && rc == TC_OK) {
        if (c->state != CH_DATA) {
            if (!chunk_line(c, b, &rc, err))
                break;
            continue;
        }
        size_t n = b->len - c->pos;
        if (n > c->left)
            n = c->left;
        if (n == 0)
            break;
        if (c->out != c->pos)
            memmove(b->data + c->out, b->data + c->pos, n);
        c->out += n;
        c->pos += n;
        c->left -= n;
        if (c->left == 0)
            c->state = CH_DATA_END;
    }
    return rc;
}

static tc_code read_chunked(tc__hsync *s, resp *r, uint64_t deadline_ns, tc__error *err)
{
    tc__buf *b = r->b;
    chunker c = {0, 0, 0, CH_SIZE};
    for (;;) {
        tc_code rc = chunk_feed(&c, b, err);
        if (rc != TC_OK)
            return rc;
        if (c.state == CH_DONE)
            break;
        if (c.pos > c.out) { /* move the unparsed rest next to the decoded data */
            memmove(b->data + c.out, b->data + c.pos, b->len - c.pos);
            b->len = c.out + (b->len - c.pos);
            c.pos = c.out;
        }
        size_t got = 0;
        size_t want = c.state == CH_DATA ? read_size(c.left) : READ_CHUNK;
        rc = recv_some(s, b, want, deadline_ns, &got, err);
        if (rc != TC_OK)
            return rc;
        if (got == 0)
            return eof_error(s, err);
    }
    if (c.pos < b->len)
        r->close = true; /* bytes past the body */
    b->len = c.out;
    if (b->data != NULL)
        b->data[b->len] = '\0';
    return TC_OK;
}

static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    (void)opaque;
    return tc__calloc(items, size);
}

static void z_free(voidpf opaque, voidpf p)
{
    (void)opaque;
    tc__free(p);
}

/* Inflate [in, in + len) into `out` with zlib window bits `wbits`.
 * TC_E_PROTOCOL for corrupt or truncated data. */
static tc_code inflate_into(const uint8_t *in, size_t len, int wbits, tc__buf *out)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    zs.zalloc = z_alloc;
    zs.zfree = z_free;
    if (inflateInit2(&zs, wbits) != Z_OK)
        return TC_E_NOMEM;
    tc_code rc = TC_OK;
    size_t left = len;
    int zr = Z_OK;
    while (zr != Z_STREAM_END && rc == TC_OK) {
        if (zs.avail_in == 0 && left > 0) {
            uInt n = left > UINT_MAX ? UINT_MAX : (uInt)left;
            zs.next_in = (Bytef *)(uintptr_t)(in + (len - left));
            zs.avail_in = n;
            left -= n;
        }
        rc = tc__buf_reserve(out, len + 4096);
        if (rc != TC_OK)
            break;
        size_t room = out->cap - out->len - 1;
        uInt avail = room > UINT_MAX ? UINT_MAX : (uInt)room;
        zs.next_out = out->data + out->len;
        zs.avail_out = avail;
        zr = inflate(&zs, Z_NO_FLUSH);
        out->len += avail - zs.avail_out;
        if (zr == Z_MEM_ERROR)
            rc = TC_E_NOMEM;
        else if (zr == Z_NEED_DICT || zr == Z_DATA_ERROR || zr == Z_STREAM_ERROR ||
                 (zr == Z_BUF_ERROR && zs.avail_in == 0 && left == 0))
            rc = TC_E_PROTOCOL;
    }
    inflateEnd(&zs);
    if (out->data != NULL)
        out->data[out->len] = '\0';
    return rc;
}

/* Replace a gzip or deflate body by its decompressed bytes. "deflate" is
 * zlib-wrapped by the spec, raw from some servers: try both, as curl does. */
static tc_code decode_body(resp *r, tc__error *err)
{
    if (r->encoding == ENC_NONE || r->b->len == 0)
        return TC_OK;
    tc__buf plain = TC__BUF_INIT;
    int wbits = r->encoding == ENC_GZIP ? 15 + 16 : 15;
    tc_code rc = inflate_into(r->b->data, r->b->len, wbits, &plain);
    if (rc == TC_E_PROTOCOL && r->encoding == ENC_DEFLATE) {
        tc__buf_reset(&plain);
        rc = inflate_into(r->b->data, r->b->len, -15, &plain);
    }
    if (rc != TC_OK) {
        tc__buf_cleanup(&plain);
        if (rc == TC_E_NOMEM)
            return tc__error_set(err, rc, "out of memory decompressing the response");
        return tc__error_set(err, rc, "cannot decompress the %s response body",
                             r->encoding == ENC_GZIP ? "gzip" : "deflate");
    }
    tc__buf_cleanup(r->b);
    *r->b = plain;
    return TC_OK;
}

static tc_code read_body(tc__hsync *s, resp *r, uint64_t deadline_ns, tc__error *err)
{
    if (r->status == 204 || r->status == 304)
        return TC_OK;
    if (r->chunked)
        return read_chunked(s, r, deadline_ns, err);
    if (r->has_length)
        return read_length(s, r, deadline_ns, err);
    return read_to_eof(s, r, deadline_ns, err);
}

/* ---- the exchange ------------------------------------------------------------------ */

static tc_code exchange(tc__hsync *s, tc__xfer *x, uint64_t deadline_ns, long *status,
                        tc__error *err)
{
    resp r;
    memset(&r, 0, sizeof r);
    r.b = &x->resp;
    tc__timers_set(&x->timers, TC_TIMER_SEND_START);
    tc_code rc = send_request(s, x, deadline_ns, err);
    if (rc == TC_OK)
        tc__timers_set(&x->timers, TC_TIMER_SEND_END);
    for (int i = 0; rc == TC_OK; i++) { /* skip 1xx answers */
        rc = read_head(s, &r, deadline_ns, err);
        if (rc != TC_OK || r.status >= 200)
            break;
        if (i == MAX_INTERIM)
            rc = protocol_error(err, "too many interim responses");
    }
    if (s->got_bytes)
        x->timers.ns[TC_TIMER_RECV_START] = s->first_byte_ns;
    if (rc == TC_OK)
        rc = read_body(s, &r, deadline_ns, err);
    if (rc == TC_OK)
        rc = decode_body(&r, err);
    if (rc != TC_OK)
        return rc;
    tc__timers_set(&x->timers, TC_TIMER_RECV_END);
    *status = r.status;
    x->header_len = r.header_len;
    if (r.close)
        close_conn(s);
    return TC_OK;
}

tc_code tc__hsync_perform(tc__hsync *s, tc__xfer *x, long *status, tc__error *err)
{
    uint64_t deadline_ns = 0;
    if (x->timeout_us > 0)
        deadline_ns = x->timeout_us > UINT64_MAX / 4000u ? 0 : tc__now_ns() + x->timeout_us * 1000u;
    x->header_len = TC__NO_HEADER_LENGTH;
    tc_code rc = build_head(s, x, err);
    for (int attempt = 0; rc == TC_OK; attempt++) {
        bool reused = s->fd >= 0;
        if (!reused) {
            rc = open_conn(s, deadline_ns, err);
            if (rc != TC_OK)
                break;
        }
        s->stale = false;
        s->got_bytes = false;
        rc = exchange(s, x, deadline_ns, status, err);
        if (rc == TC_OK)
            break;
        close_conn(s); /* its state is unknown now */
        if (!(s->stale && reused && attempt == 0))
            break;
        tc__buf_reset(&x->resp); /* the kept connection had died: once more on a new one */
        tc__error_clear(err);
        rc = TC_OK;
    }
    return rc;
}
