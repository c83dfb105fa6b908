/* Test support code: plain libc (malloc is fine here, outside the library). */
#include "server_proc.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef TC_SERVER_BIN
#error "TC_SERVER_BIN must name the tritonc-server binary"
#endif

#define METRICS_LINE "Started Metrics Service at "

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Find "<prefix>host:port" in `text`; returns the port or 0. */
static int find_port(const char *text, const char *prefix)
{
    const char *p = strstr(text, prefix);
    if (p == NULL)
        return 0;
    const char *eol = strchr(p, '\n');
    if (eol == NULL)
        return 0;
    const char *colon = eol;
    while (colon > p && *colon != ':')
        colon--;
    return (int)strtol(colon + 1, NULL, 10);
}

int tc_test_server_start(tc_test_server *s, const char *repo, const char *const *extra_args)
{
    int fds[2];
    memset(s, 0, sizeof *s);
    if (pipe(fds) != 0)
        return -1;
    const char *argv[32];
    char repo_arg[4096];
    size_t n = 0;
    snprintf(repo_arg, sizeof repo_arg, "--model-repository=%s", repo);
    argv[n++] = TC_SERVER_BIN;
    argv[n++] = repo_arg;
    argv[n++] = "--http-port=0";
    argv[n++] = "--grpc-port=0";
    argv[n++] = "--metrics-port=0";
    for (size_t i = 0; extra_args != NULL && extra_args[i] != NULL && n < 31; i++)
        argv[n++] = extra_args[i];
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    s->pid = pid;
    s->out_fd = fds[0];
    char text[65536];
    size_t used = 0;
    long long deadline = now_ms() + 20000;
    while (now_ms() < deadline && used < sizeof text - 1) {
        struct pollfd pfd = {s->out_fd, POLLIN, 0};
        if (poll(&pfd, 1, (int)(deadline - now_ms())) <= 0)
            break;
        ssize_t r = read(s->out_fd, text + used, sizeof text - 1 - used);
        if (r <= 0)
            break;
        used += (size_t)r;
        text[used] = '\0';
        s->http_port = find_port(text, "Started HTTPService at ");
        if (s->http_port > 0) {
            s->grpc_port = find_port(text, "Started GRPCInferenceService at ");
            /* The metrics line may have come in the same read: keep its
             * port for tc_test_server_metrics_port() (all of the line, if
             * part of it is here). */
            s->metrics_port = find_port(text, METRICS_LINE);
            if (s->metrics_port > 0 || strstr(text, METRICS_LINE) == NULL)
                return 0;
        }
    }
    text[used] = '\0';
    fprintf(stderr, "tritonc-server did not start:\n%s\n", text);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(s->out_fd);
    return -1;
}

/* Copy whatever the server printed to stderr (for failing runs). */
static void dump_output(int fd)
{
    char buf[4096];
    ssize_t r;
    fcntl(fd, F_SETFL, O_NONBLOCK);
    while ((r = read(fd, buf, sizeof buf)) > 0)
        fwrite(buf, 1, (size_t)r, stderr);
}

int tc_test_server_metrics_port(tc_test_server *s)
{
    if (s->metrics_port > 0)
        return s->metrics_port;
    /* Not read yet: it is the next thing the server prints. */
    char text[65536];
    size_t used = 0;
    long long deadline = now_ms() + 20000;
    while (now_ms() < deadline && used < sizeof text - 1) {
        struct pollfd pfd = {s->out_fd, POLLIN, 0};
        if (poll(&pfd, 1, (int)(deadline - now_ms())) <= 0)
            break;
        ssize_t r = read(s->out_fd, text + used, sizeof text - 1 - used);
        if (r <= 0)
            break;
        used += (size_t)r;
        text[used] = '\0';
        s->metrics_port = find_port(text, METRICS_LINE);
        if (s->metrics_port > 0)
            return s->metrics_port;
    }
    text[used] = '\0';
    fprintf(stderr, "tritonc-server reported no metrics port; it printed:\n%s\n", text);
    return -1;
}

int tc_test_server_stop(tc_test_server *s)
{
    if (s->pid <= 0)
        return -1;
    kill(s->pid, SIGTERM);
    int status = 0;
    long long deadline = now_ms() + 30000;
    pid_t done = 0;
    /* Drain the server's output while waiting so it never blocks on a full pipe. */
    while ((done = waitpid(s->pid, &status, WNOHANG)) == 0 && now_ms() < deadline) {
        struct pollfd pfd = {s->out_fd, POLLIN, 0};
        if (poll(&pfd, 1, 100) > 0) {
            char buf[4096];
            if (read(s->out_fd, buf, sizeof buf) <= 0)
                pfd.fd = -1;
        }
    }
    int rc = -1;
    if (done == s->pid && WIFEXITED(status)) {
        rc = WEXITSTATUS(status);
    } else if (done == 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, &status, 0);
        fprintf(stderr, "tritonc-server did not stop within 30 s\n");
    } else {
        fprintf(stderr, "tritonc-server died of signal %d\n",
                WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    }
    if (rc != 0)
        dump_output(s->out_fd);
    close(s->out_fd);
    s->pid = 0;
    return rc;
}

static int connect_local(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Undo chunked transfer encoding in place; returns the new length. */
static size_t dechunk(uint8_t *body, size_t len)
{
    size_t in = 0;
    size_t out = 0;
    while (in < len) {
        char *end = NULL;
        unsigned long n = strtoul((char *)body + in, &end, 16);
        char *crlf = strstr((char *)body + in, "\r\n");
        if (crlf == NULL || n == 0)
            break;
        in = (size_t)(crlf - (char *)body) + 2;
        if (n > len - in)
            n = len - in;
        memmove(body + out, body + in, n);
        out += n;
        in += n + 2;
        (void)end;
    }
    body[out] = 0;
    return out;
}

static int parse_reply(uint8_t *raw, size_t len, tc_http_reply *reply)
{
    char *hdr_end = strstr((char *)raw, "\r\n\r\n");
    if (hdr_end == NULL || sscanf((char *)raw, "HTTP/1.%*d %d", &reply->status) != 1)
        return -1;
    size_t hlen = (size_t)(hdr_end - (char *)raw);
    reply->headers = malloc(hlen + 1);
    memcpy(reply->headers, raw, hlen);
    reply->headers[hlen] = '\0';
    for (size_t i = 0; i < hlen; i++) {
        if (reply->headers[i] == ':') {
            while (i < hlen && reply->headers[i] != '\n')
                i++;
        } else {
            reply->headers[i] = (char)tolower((unsigned char)reply->headers[i]);
        }
    }
    size_t off = hlen + 4;
    reply->body_len = len - off;
    reply->body = malloc(reply->body_len + 1);
    memcpy(reply->body, raw + off, reply->body_len);
    reply->body[reply->body_len] = 0;
    const char *te = tc_http_header(reply, "transfer-encoding");
    if (te != NULL && strstr(te, "chunked") != NULL)
        reply->body_len = dechunk(reply->body, reply->body_len);
    return 0;
}

static int raw_exchange(int port, const void *bytes, size_t len, int timeout_ms, int half_close,
                        tc_http_reply *reply)
{
    memset(reply, 0, sizeof *reply);
    int fd = connect_local(port);
    if (fd < 0)
        return -1;
    if (send_all(fd, bytes, len) != 0) {
        /* The server may answer and close before taking the whole body. */
    }
    if (half_close)
        shutdown(fd, SHUT_WR);
    size_t cap = 1 << 16;
    size_t used = 0;
    uint8_t *raw = malloc(cap);
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        struct pollfd pfd = {fd, POLLIN, 0};
        long long left = deadline - now_ms();
        if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
            break;
        if (used + 1 >= cap) {
            cap *= 2;
            raw = realloc(raw, cap);
        }
        ssize_t r = recv(fd, raw + used, cap - used - 1, 0);
        if (r <= 0)
            break;
        used += (size_t)r;
    }
    close(fd);
    raw[used] = 0;
    int rc = parse_reply(raw, used, reply);
    free(raw);
    return rc;
}

int tc_http_raw(int port, const void *bytes, size_t len, tc_http_reply *reply)
{
    return raw_exchange(port, bytes, len, 10000, 0, reply);
}

int tc_http_raw_half_close(int port, const void *bytes, size_t len, int timeout_ms,
                           tc_http_reply *reply)
{
    return raw_exchange(port, bytes, len, timeout_ms, 1, reply);
}

int tc_http_request(int port, const char *method, const char *path, const char *extra_headers,
                    const void *body, size_t body_len, tc_http_reply *reply)
{
    size_t cap = 1024 + strlen(path) + (extra_headers ? strlen(extra_headers) : 0) + body_len;
    char *req = malloc(cap);
    int n = snprintf(req, cap, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s",
                     method, path, extra_headers ? extra_headers : "");
    if (body != NULL)
        n += snprintf(req + n, cap - (size_t)n, "Content-Length: %zu\r\n", body_len);
    n += snprintf(req + n, cap - (size_t)n, "\r\n");
    if (body != NULL && body_len > 0) {
        memcpy(req + n, body, body_len);
        n += (int)body_len;
    }
    int rc = tc_http_raw(port, req, (size_t)n, reply);
    free(req);
    return rc;
}

const char *tc_http_header(const tc_http_reply *reply, const char *name)
{
    static char value[1024];
    size_t nlen = strlen(name);
    const char *p = reply->headers;
    while (p != NULL && (p = strstr(p, "\n")) != NULL) {
        p++;
        if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
            const char *v = p + nlen + 1;
            while (*v == ' ')
                v++;
            size_t i = 0;
            while (v[i] != '\r' && v[i] != '\n' && v[i] != '\0' && i < sizeof value - 1) {
                value[i] = v[i];
                i++;
            }
            value[i] = '\0';
            return value;
        }
    }
    return NULL;
}

void tc_http_reply_free(tc_http_reply *reply)
{
    free(reply->headers);
    free(reply->body);
    memset(reply, 0, sizeof *reply);
}

int tc_test_metric(int metrics_port, const char *series, double *value)
{
    tc_http_reply r;
    if (tc_http_request(metrics_port, "GET", "/metrics", NULL, NULL, 0, &r) != 0)
        return -1;
    int rc = -1;
    size_t n = strlen(series);
    for (const char *p = (const char *)r.body; r.status == 200 && p != NULL && *p != '\0';) {
        if (strncmp(p, series, n) == 0 && p[n] == ' ') {
            *value = strtod(p + n + 1, NULL);
            rc = 0;
            break;
        }
        p = strchr(p, '\n');
        if (p != NULL)
            p++;
    }
    tc_http_reply_free(&r);
    return rc;
}

int tc_test_wait_metric(int metrics_port, const char *series, double want, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    double v = -1;
    bool seen = false;
    for (;;) {
        double cur;
        if (tc_test_metric(metrics_port, series, &cur) == 0) {
            v = cur;
            seen = true;
            if (v == want)
                return 0;
        }
        if (now_ms() >= deadline)
            break;
        struct timespec ts = {0, 10 * 1000 * 1000}; /* the polling interval */
        nanosleep(&ts, NULL);
    }
    if (seen)
        fprintf(stderr, "%s: %g after %d ms, want %g\n", series, v, timeout_ms, want);
    else
        fprintf(stderr, "%s: no sample on metrics port %d within %d ms\n", series, metrics_port,
                timeout_ms);
    return -1;
}

int tc_test_wait_pending(int metrics_port, const char *model, int want, int timeout_ms)
{
    char series[256];
    snprintf(series, sizeof series,
             "nv_inference_pending_request_count{model=\"%s\",version=\"1\"}", model);
    return tc_test_wait_metric(metrics_port, series, want, timeout_ms);
}

uint8_t *tc_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = malloc((size_t)size + 1);
    size_t got = fread(data, 1, (size_t)size, f);
    fclose(f);
    data[got] = 0;
    *len = got;
    return data;
}

/* ---- temporary repositories ----------------------------------------------------------- */

int tc_test_repo_new(char *dir, size_t size)
{
    if (size < 32)
        return -1;
    snprintf(dir, size, "/tmp/tc_repo_XXXXXX");
    return mkdtemp(dir) != NULL ? 0 : -1;
}

int tc_test_repo_add_model(const char *dir, const char *name, const char *config)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (mkdir(path, 0755) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/%s/1", dir, name);
    if (mkdir(path, 0755) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/%s/config.pbtxt", dir, name);
    FILE *fp = fopen(path, "w");
    if (fp == NULL)
        return -1;
    int rc = fputs(config, fp) >= 0 ? 0 : -1;
    if (fclose(fp) != 0)
        rc = -1;
    return rc;
}

void tc_test_repo_remove(const char *dir)
{
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}
