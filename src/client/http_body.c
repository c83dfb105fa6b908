/* Building the HTTP body of an inference request: the JSON header from the
 * codec, then the binary blobs of the binary inputs, sent zero-copy from the
 * caller's buffers (or assembled into one buffer when small or compressed). */
#include "client/http_internal.h"

#include <limits.h>
#include <string.h>

#include <zlib.h>

#include "client/request_internal.h"
#include "common/alloc.h"
#include "proto/v2_json.h"

/* Bodies up to this size are copied into one buffer: one memcpy is cheaper
 * than a read callback per piece, and curl sends it in one write. */
#define ASSEMBLE_MAX (64u * 1024u)

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

/* Compress `in` into `out` as gzip or zlib (what Triton calls deflate). */
static tc_code compress_body(const uint8_t *in, size_t len, tc_compression algo, tc__buf *out)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    zs.zalloc = z_alloc;
    zs.zfree = z_free;
    int wbits = algo == TC_COMPRESSION_GZIP ? 15 + 16 : 15;
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return TC_E_NOMEM;
    tc_code rc = TC_OK;
    size_t left = len;
    int zr = Z_OK;
    while (zr != Z_STREAM_END) {
        if (zs.avail_in == 0 && left > 0) {
            uInt n = left > UINT_MAX ? UINT_MAX : (uInt)left;
            zs.next_in = (Bytef *)(uintptr_t)(in + (len - left));
            zs.avail_in = n;
            left -= n;
        }
        rc = tc__buf_reserve(out, len / 4 + 1024);
        if (rc != TC_OK)
            break;
        size_t room = out->cap - out->len - 1;
        uInt avail = room > UINT_MAX ? UINT_MAX : (uInt)room;
        zs.next_out = out->data + out->len;
        zs.avail_out = avail;
        zr = deflate(&zs, left == 0 ? Z_FINISH : Z_NO_FLUSH);
        out->len += avail - zs.avail_out;
        if (zr == Z_STREAM_ERROR) {
            rc = TC_E_INTERNAL;
            break;
        }
    }
    deflateEnd(&zs);
    return rc;
}

tc_code tc__http_append_escaped(tc__buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        unsigned char c = *p;
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '.' || c == '_' || c == '~';
        char enc[3] = {(char)c, 0, 0};
        size_t n = 1;
        if (!plain) {
            enc[0] = '%';
            enc[1] = hex[c >> 4];
            enc[2] = hex[c & 15];
            n = 3;
        }
        tc_code rc = tc__buf_append(b, enc, n);
        if (rc != TC_OK)
            return rc;
    }
    return TC_OK;
}

static bool sends_blob(const tc__tensor *t)
{
    return t->binary && t->shm.region == NULL;
}

/* Encode the JSON header of `req` into `json`. JSON inputs made of several
 * chunks are joined into temporary buffers for the codec. */
static tc_code encode_header(const tc_request *req, tc__buf *json, tc__error *err)
{
    size_t n = req->base.input_count;
    tc__infer_request view = req->base;
    tc__tensor *inputs = n > 0 ? tc__calloc(n, sizeof *inputs) : NULL;
    uint8_t **joined = n > 0 ? tc__calloc(n, sizeof *joined) : NULL;
    tc_code rc = TC_OK;
    if (n > 0 && (inputs == NULL || joined == NULL)) {
        rc = tc__error_set(err, TC_E_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const tc__input_data *d = &req->data[i];
        inputs[i] = req->base.inputs[i];
        inputs[i].byte_size = d->byte_size;
        inputs[i].data = d->count > 0 ? d->chunks[0].data : NULL;
        if (d->count > 1 && !sends_blob(&inputs[i])) {
            joined[i] = tc__malloc(d->byte_size);
            if (joined[i] == NULL) {
                rc = tc__error_set(err, TC_E_NOMEM, "out of memory");
                goto out;
            }
            size_t off = 0;
            for (size_t k = 0; k < d->count; k++) {
                memcpy(joined[i] + off, d->chunks[k].data, d->chunks[k].len);
                off += d->chunks[k].len;
            }
            inputs[i].data = joined[i];
        }
    }
    view.inputs = inputs;
    if (view.output_count == 0)
        view.binary_data_output = req->binary_outputs ? 1 : -1;
    rc = tc__v2_http_request_encode(&view, json, err);
out:
    for (size_t i = 0; joined != NULL && i < n; i++)
        tc__free(joined[i]);
    tc__free(joined);
    tc__free(inputs);
    return rc;
}

static tc_code push_iov(tc__xfer *x, const uint8_t *data, size_t len)
{
    tc__iov *iov = tc__reallocarray(x->iov, x->iov_count + 1, sizeof *iov);
    if (iov == NULL)
        return TC_E_NOMEM;
    x->iov = iov;
    iov[x->iov_count].data = data;
    iov[x->iov_count].len = len;
    x->iov_count++;
    return TC_OK;
}

/* Attach a chunk zero-copy; with `keep`, request-owned bytes are copied. */
static tc_code attach_chunk(tc__xfer *x, const tc__chunk *c, bool keep)
{
    const uint8_t *p = c->data;
    if (keep && c->owned != NULL) {
        uint8_t **copies = tc__reallocarray(x->copies, x->copy_count + 1, sizeof *copies);
        if (copies == NULL)
            return TC_E_NOMEM;
        x->copies = copies;
        uint8_t *copy = tc__memdup(c->data, c->len);
        if (copy == NULL)
            return TC_E_NOMEM;
        copies[x->copy_count++] = copy;
        p = copy;
    }
    return push_iov(x, p, c->len);
}

/* Lay out the blobs after the JSON header in x->body (assembled) or x->iov. */
static tc_code add_blobs(const tc_request *req, tc__xfer *x, bool keep, bool assemble)
{
    if (!assemble) {
        tc_code rc = push_iov(x, x->body.data, x->body.len);
        if (rc != TC_OK)
            return rc;
    }
    for (size_t i = 0; i < req->base.input_count; i++) {
        if (!sends_blob(&req->base.inputs[i]))
            continue;
        const tc__input_data *d = &req->data[i];
        for (size_t k = 0; k < d->count; k++) {
            tc_code rc = assemble ? tc__buf_append(&x->body, d->chunks[k].data, d->chunks[k].len)
                                  : attach_chunk(x, &d->chunks[k], keep);
            if (rc != TC_OK)
                return rc;
        }
    }
    return TC_OK;
}

static size_t blob_bytes(const tc_request *req)
{
    size_t total = 0;
    for (size_t i = 0; i < req->base.input_count; i++) {
        if (sends_blob(&req->base.inputs[i]))
            total += req->data[i].byte_size;
    }
    return total;
}

static tc_code add_header(tc__xfer *x, const char *fmt_name, const char *value)
{
    tc__buf line = TC__BUF_INIT;
    tc_code rc = tc__buf_printf(&line, "%s: %s", fmt_name, value);
    if (rc == TC_OK) {
        struct curl_slist *l = curl_slist_append(x->headers, (const char *)line.data);
        if (l == NULL)
            rc = TC_E_NOMEM;
        else
            x->headers = l;
    }
    tc__buf_cleanup(&line);
    return rc;
}

tc_code tc__http_common_headers(tc__http_client *hc, tc__xfer *x, const tc__hlist *call)
{
    struct curl_slist *l = curl_slist_append(x->headers, "Expect:");
    if (l == NULL)
        return TC_E_NOMEM;
    x->headers = l;
    const tc__hlist *lists[2] = {&hc->opts.headers, call};
    for (size_t k = 0; k < 2; k++) {
        for (size_t i = 0; lists[k] != NULL && i < lists[k]->count; i++) {
            tc_code rc = add_header(x, lists[k]->items[i].name, lists[k]->items[i].value);
            if (rc != TC_OK)
                return rc;
        }
    }
    return TC_OK;
}

static tc_code infer_url(tc__http_client *hc, const tc_request *req, tc__xfer *x)
{
    tc__buf url = TC__BUF_INIT;
    tc_code rc = tc__buf_printf(&url, "%s/v2/models/", hc->base_url);
    if (rc == TC_OK)
        rc = tc__http_append_escaped(&url, req->base.model_name);
    if (rc == TC_OK && req->base.model_version != NULL)
        rc = tc__buf_printf(&url, "/versions/%s", req->base.model_version);
    if (rc == TC_OK)
        rc = tc__buf_append_str(&url, "/infer");
    if (rc != TC_OK) {
        tc__buf_cleanup(&url);
        return rc;
    }
    x->url = (char *)tc__buf_steal(&url, NULL);
    return TC_OK;
}

/* Compress the assembled body in place of the plain one. */
static tc_code compress_xfer(tc__http_client *hc, tc__xfer *x)
{
    tc__buf z = TC__BUF_INIT;
    tc_code rc = compress_body(x->body.data, x->body.len, hc->opts.request_compression, &z);
    if (rc != TC_OK) {
        tc__buf_cleanup(&z);
        return rc;
    }
    tc__buf_cleanup(&x->body);
    x->body = z;
    return add_header(x, "Content-Encoding",
                      hc->opts.request_compression == TC_COMPRESSION_GZIP ? "gzip" : "deflate");
}

static tc_code prepare_body(tc__http_client *hc, const tc_request *req, bool keep, tc__xfer *x,
                            tc__error *err)
{
    tc_code rc = encode_header(req, &x->body, err);
    if (rc != TC_OK)
        return rc;
    char num[32];
    size_t json_len = x->body.len;
    size_t blobs = blob_bytes(req);
    bool compress = hc->opts.request_compression != TC_COMPRESSION_NONE;
    bool assemble = compress || blobs <= ASSEMBLE_MAX;
    rc = add_blobs(req, x, keep, assemble);
    if (rc == TC_OK && compress)
        rc = compress_xfer(hc, x);
    (void)snprintf(num, sizeof num, "%zu", json_len);
    if (rc == TC_OK)
        rc = add_header(x, "Inference-Header-Content-Length", num);
    if (rc == TC_OK)
        rc = add_header(x, "Content-Type",
                        blobs > 0 ? "application/octet-stream" : "application/json");
    if (rc != TC_OK)
        return tc__error_set(err, rc, "cannot build the request body: %s", tc_code_str(rc));
    return TC_OK;
}

tc_code tc__http_infer_prepare(tc__http_client *hc, const tc_request *req, bool keep,
                               tc__xfer **out, tc__error *err)
{
    *out = NULL;
    tc__xfer *x = tc__calloc(1, sizeof *x);
    if (x == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    x->header_len = TC__NO_HEADER_LENGTH;
    x->timeout_us =
        req->client_timeout_us != 0 ? req->client_timeout_us : hc->opts.network_timeout_us;
    tc_code rc = prepare_body(hc, req, keep, x, err);
    if (rc == TC_OK) {
        rc = tc__http_common_headers(hc, x, &req->headers);
        if (rc == TC_OK)
            rc = infer_url(hc, req, x);
        if (rc != TC_OK)
            tc__error_set(err, rc, "cannot build the request: %s", tc_code_str(rc));
    }
    if (rc != TC_OK) {
        tc__xfer_free(hc, x);
        return rc;
    }
    *out = x;
    return TC_OK;
}
