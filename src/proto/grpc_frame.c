/* gRPC message framing, compression and header values (grpc_frame.h). */
#include "proto/grpc_frame.h"

#include <limits.h>
#include <string.h>

#include <zlib.h>

#include "common/alloc.h"

/* ---- encodings ------------------------------------------------------------ */

const char *tc__grpc_encoding_name(tc__grpc_encoding enc)
{
    switch (enc) {
    case TC__GRPC_ENC_IDENTITY:
        return "identity";
    case TC__GRPC_ENC_DEFLATE:
        return "deflate";
    case TC__GRPC_ENC_GZIP:
        return "gzip";
    default:
        return NULL;
    }
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static char ascii_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool token_is(const char *s, size_t len, const char *word)
{
    size_t n = strlen(word);
    if (len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (ascii_lower(s[i]) != word[i])
            return false;
    }
    return true;
}

tc__grpc_encoding tc__grpc_encoding_parse(const char *s, size_t len)
{
    if (s == NULL)
        return TC__GRPC_ENC_IDENTITY;
    while (len > 0 && is_blank(s[0])) {
        s++;
        len--;
    }
    while (len > 0 && is_blank(s[len - 1]))
        len--;
    if (len == 0 || token_is(s, len, "identity"))
        return TC__GRPC_ENC_IDENTITY;
    if (token_is(s, len, "deflate"))
        return TC__GRPC_ENC_DEFLATE;
    if (token_is(s, len, "gzip"))
        return TC__GRPC_ENC_GZIP;
    return TC__GRPC_ENC_UNKNOWN;
}

unsigned tc__grpc_accept_encoding_parse(const char *s, size_t len)
{
    unsigned mask = TC__GRPC_ENC_BIT(TC__GRPC_ENC_IDENTITY);
    size_t start = 0;
    for (size_t i = 0; s != NULL && i <= len; i++) {
        if (i < len && s[i] != ',')
            continue;
        tc__grpc_encoding e = tc__grpc_encoding_parse(s + start, i - start);
        if (e != TC__GRPC_ENC_UNKNOWN)
            mask |= TC__GRPC_ENC_BIT(e);
        start = i + 1;
    }
    return mask;
}

tc_code tc__grpc_accept_encoding_format(unsigned mask, tc__buf *out)
{
    static const tc__grpc_encoding order[] = {TC__GRPC_ENC_IDENTITY, TC__GRPC_ENC_DEFLATE,
                                              TC__GRPC_ENC_GZIP};
    bool first = true;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        if ((mask & TC__GRPC_ENC_BIT(order[i])) == 0)
            continue;
        if (!first && tc__buf_append_str(out, ", ") != TC_OK)
            return TC_E_NOMEM;
        if (tc__buf_append_str(out, tc__grpc_encoding_name(order[i])) != TC_OK)
            return TC_E_NOMEM;
        first = false;
    }
    return TC_OK;
}

/* ---- compression ---------------------------------------------------------- */

/* zlib's window bits: 15 = zlib wrapper, 31 = gzip wrapper. */
static int window_bits(tc__grpc_encoding enc)
{
    return enc == TC__GRPC_ENC_GZIP ? 31 : 15;
}

/* zlib counts in uInt; feed it at most this much at a time. */
#define ZCHUNK ((size_t)1 << 30)

static tc_code compress_stream(z_stream *zs, const uint8_t *in, size_t len, tc__buf *out,
                               tc__error *err)
{
    size_t fed = 0;
    for (;;) {
        if (zs->avail_in == 0 && fed < len) {
            size_t n = len - fed < ZCHUNK ? len - fed : ZCHUNK;
            zs->next_in = (Bytef *)(uintptr_t)(in + fed);
            zs->avail_in = (uInt)n;
            fed += n;
        }
        size_t room = 64 + (len - fed) / 2 + zs->avail_in;
        if (room > ZCHUNK)
            room = ZCHUNK;
        if (tc__buf_reserve(out, room) != TC_OK)
            return tc__error_set(err, TC_E_NOMEM, "out of memory");
        zs->next_out = out->data + out->len;
        zs->avail_out = (uInt)room;
        int flush = fed == len ? Z_FINISH : Z_NO_FLUSH;
        int zrc = deflate(zs, flush);
        out->len += room - zs->avail_out;
        out->data[out->len] = 0;
        if (zrc == Z_STREAM_END)
            return TC_OK;
        if (zrc != Z_OK && zrc != Z_BUF_ERROR)
            return tc__error_set(err, TC_E_INTERNAL, "compression failed");
    }
}

tc_code tc__grpc_compress(tc__grpc_encoding enc, const uint8_t *in, size_t len, tc__buf *out,
                          tc__error *err)
{
    if (out == NULL || (in == NULL && len > 0))
        return tc__error_set(err, TC_E_INVALID_ARG, "invalid argument");
    if (enc == TC__GRPC_ENC_IDENTITY)
        return tc__buf_append(out, in, len) == TC_OK
                   ? TC_OK
                   : tc__error_set(err, TC_E_NOMEM, "out of memory");
    if (enc != TC__GRPC_ENC_DEFLATE && enc != TC__GRPC_ENC_GZIP)
        return tc__error_set(err, TC_E_INVALID_ARG, "unsupported compression");
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, window_bits(enc), 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        return tc__error_set(err, TC_E_NOMEM, "cannot start compression");
    size_t start = out->len;
    tc_code rc = compress_stream(&zs, in, len, out, err);
    deflateEnd(&zs);
    if (rc != TC_OK && out->data != NULL) {
        out->len = start;
        out->data[start] = 0;
    }
    return rc;
}

static tc_code inflate_all(z_stream *zs, const uint8_t *in, size_t len, size_t max_size,
                           tc__buf *out, size_t start, tc__error *err)
{
    size_t fed = 0;
    for (;;) {
        if (zs->avail_in == 0 && fed < len) {
            size_t n = len - fed < ZCHUNK ? len - fed : ZCHUNK;
            zs->next_in = (Bytef *)(uintptr_t)(in + fed);
            zs->avail_in = (uInt)n;
            fed += n;
        }
        size_t produced = out->len - start;
        /* One byte beyond the limit tells "too big" from "exactly the limit". */
        size_t allowed = max_size - produced + 1;
        size_t room = produced < len ? len * 2 + 256 : produced + 256;
        if (room > allowed)
            room = allowed;
        if (room > ZCHUNK)
            room = ZCHUNK;
        if (tc__buf_reserve(out, room) != TC_OK)
            return tc__error_set(err, TC_E_NOMEM, "out of memory");
        zs->next_out = out->data + out->len;
        zs->avail_out = (uInt)room;
        int zrc = inflate(zs, Z_NO_FLUSH);
        out->len += room - zs->avail_out;
        out->data[out->len] = 0;
        if (out->len - start > max_size)
            return tc__error_set(err, TC_E_INVALID_ARG,
                                 "grpc: received message after decompression larger than max "
                                 "(%zu)",
                                 max_size);
        if (zrc == Z_STREAM_END) {
            if (zs->avail_in != 0 || fed != len)
                return tc__error_set(err, TC_E_PROTOCOL,
                                     "grpc: trailing data after compressed message");
            return TC_OK;
        }
        if (zrc == Z_BUF_ERROR && zs->avail_in == 0 && fed == len)
            return tc__error_set(err, TC_E_PROTOCOL, "grpc: truncated compressed message");
        if (zrc != Z_OK && zrc != Z_BUF_ERROR)
            return tc__error_set(err, TC_E_PROTOCOL, "grpc: failed to decompress message: %s",
                                 zs->msg != NULL ? zs->msg : "corrupt data");
    }
}

tc_code tc__grpc_decompress(tc__grpc_encoding enc, const uint8_t *in, size_t len, size_t max_size,
                            tc__buf *out, tc__error *err)
{
    if (out == NULL || (in == NULL && len > 0))
        return tc__error_set(err, TC_E_INVALID_ARG, "invalid argument");
    if (max_size == 0 || max_size > SIZE_MAX / 2)
        max_size = TC__GRPC_DEFAULT_MAX_MESSAGE;
    if (enc == TC__GRPC_ENC_IDENTITY) {
        if (len > max_size)
            return tc__error_set(err, TC_E_INVALID_ARG,
                                 "grpc: received message larger than max (%zu vs. %zu)", len,
                                 max_size);
        return tc__buf_append(out, in, len) == TC_OK
                   ? TC_OK
                   : tc__error_set(err, TC_E_NOMEM, "out of memory");
    }
    if (enc != TC__GRPC_ENC_DEFLATE && enc != TC__GRPC_ENC_GZIP)
        return tc__error_set(err, TC_E_NOT_SUPPORTED, "unsupported compression");
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, window_bits(enc)) != Z_OK)
        return tc__error_set(err, TC_E_NOMEM, "cannot start decompression");
    size_t start = out->len;
    tc_code rc = inflate_all(&zs, in, len, max_size, out, start, err);
    inflateEnd(&zs);
    if (rc != TC_OK && out->data != NULL) {
        out->len = start;
        out->data[start] = 0;
    }
    return rc;
}

/* ---- writing frames ------------------------------------------------------- */

tc_code tc__grpc_prefix_write(uint8_t prefix[TC__GRPC_PREFIX_SIZE], bool compressed, size_t len)
{
    if (len > UINT32_MAX)
        return TC_E_INVALID_ARG;
    uint32_t n = (uint32_t)len;
    prefix[0] = compressed ? 1 : 0;
    prefix[1] = (uint8_t)(n >> 24);
    prefix[2] = (uint8_t)(n >> 16);
    prefix[3] = (uint8_t)(n >> 8);
    prefix[4] = (uint8_t)n;
    return TC_OK;
}

tc_code tc__grpc_frame_write(tc__buf *out, const uint8_t *msg, size_t len, tc__grpc_encoding enc,
                             tc__error *err)
{
    if (out == NULL || (msg == NULL && len > 0))
        return tc__error_set(err, TC_E_INVALID_ARG, "invalid argument");
    size_t start = out->len;
    uint8_t prefix[TC__GRPC_PREFIX_SIZE] = {0};
    if (tc__buf_append(out, prefix, sizeof prefix) != TC_OK)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    tc_code rc = tc__grpc_compress(enc, msg, len, out, err);
    if (rc != TC_OK)
        goto out;
    rc = tc__grpc_prefix_write(out->data + start, enc != TC__GRPC_ENC_IDENTITY,
                               out->len - start - TC__GRPC_PREFIX_SIZE);
    if (rc != TC_OK)
        rc = tc__error_set(err, rc, "message of %zu bytes is too large for gRPC",
                           out->len - start - TC__GRPC_PREFIX_SIZE);
out:
    if (rc != TC_OK) {
        out->len = start;
        out->data[start] = 0;
    }
    return rc;
}

/* ---- reading frames ------------------------------------------------------- */

typedef enum reader_state {
    RS_PREFIX,  /* collecting the 5-byte prefix */
    RS_PAYLOAD, /* collecting `want` payload bytes */
    RS_READY,   /* a whole message waits in `payload` */
    RS_ERROR    /* sticky failure: `error` */
} reader_state;

struct tc__grpc_reader {
    size_t max_size;
    tc__grpc_encoding enc;
    reader_state state;
    uint8_t prefix[TC__GRPC_PREFIX_SIZE];
    size_t prefix_len;
    bool compressed;
    size_t want;     /* payload length from the prefix */
    tc__buf payload; /* payload bytes received so far */
    tc__buf plain;   /* decompressed message handed out by _next */
    tc__error error; /* the sticky failure */
};

tc_code tc__grpc_reader_new(tc__grpc_reader **out, size_t max_message_size, tc__grpc_encoding enc)
{
    if (out == NULL)
        return TC_E_INVALID_ARG;
    *out = NULL;
    tc__grpc_reader *r = tc__calloc(1, sizeof *r);
    if (r == NULL)
        return TC_E_NOMEM;
    r->max_size = max_message_size ? max_message_size : TC__GRPC_DEFAULT_MAX_MESSAGE;
    r->enc = enc;
    r->state = RS_PREFIX;
    *out = r;
    return TC_OK;
}

void tc__grpc_reader_free(tc__grpc_reader *r)
{
    if (r == NULL)
        return;
    tc__buf_cleanup(&r->payload);
    tc__buf_cleanup(&r->plain);
    tc__free(r);
}

void tc__grpc_reader_set_encoding(tc__grpc_reader *r, tc__grpc_encoding enc)
{
    if (r != NULL)
        r->enc = enc;
}

static tc_code reader_fail(tc__grpc_reader *r, tc__error *err)
{
    r->state = RS_ERROR;
    tc__buf_cleanup(&r->payload);
    if (err != NULL)
        *err = r->error;
    return r->error.code;
}

/* The prefix is complete: check it and get ready for the payload. */
static tc_code reader_prefix_done(tc__grpc_reader *r, tc__error *err)
{
    uint8_t flag = r->prefix[0];
    r->want = (size_t)r->prefix[1] << 24 | (size_t)r->prefix[2] << 16 | (size_t)r->prefix[3] << 8 |
              (size_t)r->prefix[4];
    r->prefix_len = 0;
    if (flag > 1) {
        tc__error_set(&r->error, TC_E_PROTOCOL, "grpc: invalid compressed flag %u", flag);
        return reader_fail(r, err);
    }
    r->compressed = flag == 1;
    if (r->compressed && r->enc == TC__GRPC_ENC_IDENTITY) {
        tc__error_set(&r->error, TC_E_PROTOCOL,
                      "grpc: compressed flag set with identity or empty encoding");
        return reader_fail(r, err);
    }
    if (r->compressed && r->enc == TC__GRPC_ENC_UNKNOWN) {
        tc__error_set(&r->error, TC_E_NOT_SUPPORTED, "grpc: unsupported message encoding");
        return reader_fail(r, err);
    }
    if (r->want > r->max_size) {
        tc__error_set(&r->error, TC_E_INVALID_ARG,
                      "grpc: received message larger than max (%zu vs. %zu)", r->want, r->max_size);
        return reader_fail(r, err);
    }
    r->payload.len = 0;
    if (tc__buf_reserve(&r->payload, r->want) != TC_OK) {
        tc__error_set(&r->error, TC_E_NOMEM, "out of memory");
        return reader_fail(r, err);
    }
    r->state = r->want == 0 ? RS_READY : RS_PAYLOAD;
    return TC_OK;
}

tc_code tc__grpc_reader_feed(tc__grpc_reader *r, const uint8_t *data, size_t len, size_t *consumed,
                             tc__error *err)
{
    size_t used = 0;
    tc_code rc = TC_OK;
    if (consumed != NULL)
        *consumed = 0;
    if (r == NULL || (data == NULL && len > 0))
        return tc__error_set(err, TC_E_INVALID_ARG, "invalid argument");
    if (r->state == RS_ERROR) {
        if (err != NULL)
            *err = r->error;
        return r->error.code;
    }
    while (used < len && r->state != RS_READY) {
        if (r->state == RS_PREFIX) {
            size_t n = TC__GRPC_PREFIX_SIZE - r->prefix_len;
            if (n > len - used)
                n = len - used;
            memcpy(r->prefix + r->prefix_len, data + used, n);
            r->prefix_len += n;
            used += n;
            if (r->prefix_len == TC__GRPC_PREFIX_SIZE) {
                rc = reader_prefix_done(r, err);
                if (rc != TC_OK)
                    break;
            }
            continue;
        }
        size_t n = r->want - r->payload.len;
        if (n > len - used)
            n = len - used;
        /* Room was reserved for the whole payload, so this never fails. */
        rc = tc__buf_append(&r->payload, data + used, n);
        if (rc != TC_OK)
            break;
        used += n;
        if (r->payload.len == r->want)
            r->state = RS_READY;
    }
    /* A zero-length message completes without bytes after its prefix. */
    if (consumed != NULL)
        *consumed = used;
    return rc;
}

tc_code tc__grpc_reader_next(tc__grpc_reader *r, const uint8_t **msg, size_t *len, bool *compressed,
                             tc__error *err)
{
    if (r == NULL || msg == NULL || len == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG, "invalid argument");
    if (r->state == RS_ERROR) {
        if (err != NULL)
            *err = r->error;
        return r->error.code;
    }
    if (r->state != RS_READY)
        return TC_E_NOT_FOUND;
    r->state = RS_PREFIX;
    if (compressed != NULL)
        *compressed = r->compressed;
    if (!r->compressed) {
        *msg = r->payload.data != NULL ? r->payload.data : (const uint8_t *)"";
        *len = r->payload.len;
        return TC_OK;
    }
    r->plain.len = 0;
    tc_code rc = tc__grpc_decompress(r->enc, r->payload.data, r->payload.len, r->max_size,
                                     &r->plain, &r->error);
    if (rc != TC_OK)
        return reader_fail(r, err);
    *msg = r->plain.data != NULL ? r->plain.data : (const uint8_t *)"";
    *len = r->plain.len;
    return TC_OK;
}

tc_code tc__grpc_reader_finish(tc__grpc_reader *r, tc__error *err)
{
    if (r == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG, "invalid argument");
    if (r->state == RS_ERROR) {
        if (err != NULL)
            *err = r->error;
        return r->error.code;
    }
    if (tc__grpc_reader_pending(r))
        return tc__error_set(err, TC_E_PROTOCOL, "grpc: stream ended mid-message");
    return TC_OK;
}

bool tc__grpc_reader_pending(const tc__grpc_reader *r)
{
    if (r == NULL)
        return false;
    return r->state == RS_PAYLOAD || r->state == RS_READY ||
           (r->state == RS_PREFIX && r->prefix_len > 0);
}

/* ---- grpc-timeout ------------------------------------------------------------ */

tc_code tc__grpc_timeout_parse(const char *s, size_t len, uint64_t *timeout_us)
{
    if (s == NULL || timeout_us == NULL || len < 2 || len > 9)
        return TC_E_INVALID_ARG;
    uint64_t v = 0;
    for (size_t i = 0; i + 1 < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return TC_E_INVALID_ARG;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    /* At most 99999999 of any unit: no product below can overflow. */
    switch (s[len - 1]) {
    case 'H':
        *timeout_us = v * 3600u * 1000000u;
        break;
    case 'M':
        *timeout_us = v * 60u * 1000000u;
        break;
    case 'S':
        *timeout_us = v * 1000000u;
        break;
    case 'm':
        *timeout_us = v * 1000u;
        break;
    case 'u':
        *timeout_us = v;
        break;
    case 'n':
        *timeout_us = (v + 999u) / 1000u;
        break;
    default:
        return TC_E_INVALID_ARG;
    }
    return TC_OK;
}

void tc__grpc_timeout_format(uint64_t timeout_us, char out[TC__GRPC_TIMEOUT_MAX])
{
    static const struct {
        char unit;
        uint64_t us;
    } units[] = {{'u', 1}, {'m', 1000}, {'S', 1000000}, {'M', 60000000ull}, {'H', 3600000000ull}};
    const uint64_t max_digits = 99999999u;
    uint64_t v = max_digits;
    char unit = 'H';
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        uint64_t n = timeout_us / units[i].us + (timeout_us % units[i].us != 0);
        if (n <= max_digits) {
            v = n;
            unit = units[i].unit;
            break;
        }
    }
    char digits[12];
    size_t nd = 0;
    do {
        digits[nd++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    size_t k = 0;
    while (nd > 0)
        out[k++] = digits[--nd];
    out[k++] = unit;
    out[k] = '\0';
}

/* ---- grpc-message ------------------------------------------------------------- */

tc_code tc__grpc_message_encode(const char *msg, size_t len, tc__buf *out)
{
    static const char hex[] = "0123456789ABCDEF";
    if (out == NULL || (msg == NULL && len > 0))
        return TC_E_INVALID_ARG;
    if (tc__buf_reserve(out, len) != TC_OK)
        return TC_E_NOMEM;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = (uint8_t)msg[i];
        if (c >= 0x20 && c <= 0x7e && c != '%') {
            if (tc__buf_append(out, &msg[i], 1) != TC_OK)
                return TC_E_NOMEM;
            continue;
        }
        char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
        if (tc__buf_append(out, esc, sizeof esc) != TC_OK)
            return TC_E_NOMEM;
    }
    return TC_OK;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

tc_code tc__grpc_message_decode(const char *s, size_t len, tc__buf *out)
{
    if (out == NULL || (s == NULL && len > 0))
        return TC_E_INVALID_ARG;
    if (tc__buf_reserve(out, len) != TC_OK)
        return TC_E_NOMEM;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = (uint8_t)s[i];
        if (c == '%' && i + 2 < len && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
            c = (uint8_t)(hex_value(s[i + 1]) << 4 | hex_value(s[i + 2]));
            i += 2;
        }
        if (tc__buf_append(out, &c, 1) != TC_OK)
            return TC_E_NOMEM;
    }
    return TC_OK;
}

/* ---- grpc-status ---------------------------------------------------------------- */

tc_code tc__grpc_status_parse(const char *s, size_t len, int *status)
{
    if (s == NULL || status == NULL || len == 0 || len > 9)
        return TC_E_INVALID_ARG;
    int v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return TC_E_INVALID_ARG;
        v = v * 10 + (s[i] - '0');
    }
    *status = v <= 16 ? v : 2;
    return TC_OK;
}

const char *tc__grpc_status_name(int status)
{
    static const char *const names[] = {"OK",
                                        "CANCELLED",
                                        "UNKNOWN",
                                        "INVALID_ARGUMENT",
                                        "DEADLINE_EXCEEDED",
                                        "NOT_FOUND",
                                        "ALREADY_EXISTS",
                                        "PERMISSION_DENIED",
                                        "RESOURCE_EXHAUSTED",
                                        "FAILED_PRECONDITION",
                                        "ABORTED",
                                        "OUT_OF_RANGE",
                                        "UNIMPLEMENTED",
                                        "INTERNAL",
                                        "UNAVAILABLE",
                                        "DATA_LOSS",
                                        "UNAUTHENTICATED"};
    if (status < 0 || (size_t)status >= sizeof names / sizeof names[0])
        return "UNKNOWN";
    return names[status];
}
