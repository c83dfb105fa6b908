/* Replies, compression and decompression for the HTTP frontend. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "common/alloc.h"
#include "frontend/http/http_internal.h"
#include "proto/v2_json.h"

static struct MHD_Response *from_buf(tc__buf *b)
{
    size_t len = 0;
    if (b->data == NULL && tc__buf_reserve(b, 0) != TC_OK)
        return NULL;
    uint8_t *p = tc__buf_steal(b, &len);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer_with_free_callback(len, p, tc__free);
    if (resp == NULL)
        tc__free(p);
    return resp;
}

tc__http_reply tc__http_reply_status(unsigned status, const char *msg)
{
    tc__buf json = TC__BUF_INIT;
    tc__http_reply r = {status, NULL};
    if (tc__v2_error_encode(msg, &json) == TC_OK)
        r.response = from_buf(&json);
    tc__buf_cleanup(&json);
    if (r.response != NULL)
        (void)MHD_add_response_header(r.response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    return r;
}

tc__http_reply tc__http_reply_error(tc_code code, const char *msg)
{
    return tc__http_reply_status((unsigned)tc__code_to_http_status(code), msg);
}

tc__http_reply tc__http_reply_empty(unsigned status)
{
    tc__http_reply r = {status, MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT)};
    return r;
}

tc__http_reply tc__http_reply_json(tc__buf *json)
{
    tc__http_reply r = {200, from_buf(json)};
    if (r.response != NULL)
        (void)MHD_add_response_header(r.response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    return r;
}

/* ---- request decompression ------------------------------------------------------------- */

static bool inflate_all(const tc__buf *in, int window_bits, size_t max, tc__buf *out)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, window_bits) != Z_OK)
        return false;
    zs.next_in = in->data;
    zs.avail_in = (uInt)in->len;
    bool ok = in->len <= UINT32_MAX;
    int zr = Z_OK;
    while (ok && zr != Z_STREAM_END) {
        if (tc__buf_reserve(out, 65536) != TC_OK) {
            ok = false;
            break;
        }
        zs.next_out = out->data + out->len;
        zs.avail_out = 65536;
        zr = inflate(&zs, Z_NO_FLUSH);
        out->len += 65536 - zs.avail_out;
        if (zr != Z_OK && zr != Z_STREAM_END)
            ok = false;
        else if (zr == Z_OK && zs.avail_in == 0 && zs.avail_out != 0)
            ok = false; /* truncated stream */
        if (out->len > max)
            ok = false;
    }
    (void)inflateEnd(&zs);
    return ok;
}

bool tc__http_decompress(struct MHD_Connection *conn, const tc__buf *body, size_t max,
                         uint8_t **out, size_t *out_len, tc__http_reply *err_reply)
{
    *out = NULL;
    *out_len = 0;
    const char *enc = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Encoding");
    if (enc == NULL || enc[0] == '\0' || strcasecmp(enc, "identity") == 0)
        return true;
    int bits;
    if (strcasecmp(enc, "gzip") == 0) {
        bits = 16 + MAX_WBITS;
    } else if (strcasecmp(enc, "deflate") == 0) {
        bits = MAX_WBITS;
    } else {
        *err_reply = tc__http_reply_status(501, "Unsupported compression type");
        if (err_reply->response != NULL)
            (void)MHD_add_response_header(err_reply->response, "Accept-Encoding", "gzip, deflate");
        return false;
    }
    tc__buf plain = TC__BUF_INIT;
    if (!inflate_all(body, bits, max, &plain)) {
        bool big = plain.len > max;
        tc__buf_cleanup(&plain);
        *err_reply = tc__http_reply_status(
            400, big ? "decompressed request body exceeds the maximum input size. Use "
                       "--http-max-input-size to increase the limit."
                     : "failed to decompress the request body");
        return false;
    }
    if (plain.data == NULL && tc__buf_reserve(&plain, 0) != TC_OK) {
        *err_reply = tc__http_reply_status(500, "out of memory");
        return false;
    }
    *out = tc__buf_steal(&plain, out_len);
    return true;
}

/* ---- response compression --------------------------------------------------------------- */

int tc__http_pick_encoding(const char *accept)
{
    if (accept == NULL)
        return 0;
    int best = 0;
    double best_q = -1.0;
    const char *p = accept;
    while (*p != '\0') {
        const char *end = strchr(p, ',');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        char item[128];
        if (len < sizeof item) {
            memcpy(item, p, len);
            item[len] = '\0';
            char *semi = strchr(item, ';');
            double q = 1.0;
            bool valid = true;
            if (semi != NULL) {
                *semi = '\0';
                char *qs = strstr(semi + 1, "q=");
                char *qend = NULL;
                if (qs != NULL)
                    q = strtod(qs + 2, &qend);
                valid = qs != NULL && qend != qs + 2;
            }
            char *name = item;
            while (*name == ' ' || *name == '\t')
                name++;
            size_t nl = strlen(name);
            while (nl > 0 && (name[nl - 1] == ' ' || name[nl - 1] == '\t'))
                name[--nl] = '\0';
            int enc = strcasecmp(name, "identity") == 0  ? 0
                      : strcasecmp(name, "deflate") == 0 ? 1
                      : strcasecmp(name, "gzip") == 0    ? 2
                                                         : -1;
            if (valid && enc >= 0 && q > best_q) {
                best_q = q;
                best = enc;
            }
        }
        if (end == NULL)
            break;
        p = end + 1;
    }
    return best_q > 0.0 ? best : 0;
}

bool tc__http_compress(int encoding, const uint8_t *in, size_t len, tc__buf *out)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    int bits = encoding == 2 ? 16 + MAX_WBITS : MAX_WBITS;
    if (len > UINT32_MAX ||
        deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, bits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return false;
    uLong bound = deflateBound(&zs, (uLong)len);
    bool ok = tc__buf_reserve(out, (size_t)bound) == TC_OK;
    if (ok) {
        zs.next_in = (Bytef *)(uintptr_t)in;
        zs.avail_in = (uInt)len;
        zs.next_out = out->data;
        zs.avail_out = (uInt)bound;
        ok = deflate(&zs, Z_FINISH) == Z_STREAM_END;
        out->len = (size_t)zs.total_out;
    }
    (void)deflateEnd(&zs);
    return ok;
}

/* ---- requests waiting on the core ------------------------------------------------------ */

void tc__http_suspend_locked(tc__http_req *r)
{
    MHD_suspend_connection(r->conn);
    atomic_fetch_add(&r->srv->suspended, 1u);
    r->suspend_counted = true;
}

void tc__http_answer(tc__http_req *r, tc__http_reply reply)
{
    pthread_mutex_lock(&r->lock);
    r->reply = reply;
    MHD_resume_connection(r->conn);
    pthread_mutex_unlock(&r->lock);
}
