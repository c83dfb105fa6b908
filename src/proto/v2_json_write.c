/* Hand-written JSON output for the v2 encoders: no DOM, straight into a
 * tc__buf, since encoding sits on the inference hot path. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/bytes.h"
#include "proto/v2_json_int.h"

static const char k_hex[] = "0123456789ABCDEF";

tc_code tc__jw_raw(tc__buf *b, const char *text, size_t len)
{
    return tc__buf_append(b, text, len);
}

/* Escape sequence for an ASCII byte, or NULL when it goes out unchanged. */
static const char *short_escape(unsigned char c)
{
    switch (c) {
    case '"':
        return "\\\"";
    case '\\':
        return "\\\\";
    case '\b':
        return "\\b";
    case '\t':
        return "\\t";
    case '\n':
        return "\\n";
    case '\f':
        return "\\f";
    case '\r':
        return "\\r";
    default:
        return NULL;
    }
}

static tc_code put_u_escape(tc__buf *b, uint32_t cp)
{
    char e[6] = {'\\',
                 'u',
                 k_hex[(cp >> 12) & 0xF],
                 k_hex[(cp >> 8) & 0xF],
                 k_hex[(cp >> 4) & 0xF],
                 k_hex[cp & 0xF]};
    return tc__buf_append(b, e, sizeof e);
}

/* Decode one UTF-8 sequence at s[0..left). Returns its length (1-4) and the
 * code point, or 0 when the sequence is invalid (overlong, surrogate, out
 * of range, truncated). */
static size_t utf8_decode(const unsigned char *s, size_t left, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t v;
    uint32_t min;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        v = c & 0x1Fu;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        v = c & 0x0Fu;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        v = c & 0x07u;
        min = 0x10000;
    } else {
        return 0;
    }
    if (left < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3Fu);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return n;
}

/* Write a non-ASCII sequence at s as \uXXXX escapes; returns bytes used or
 * 0 for invalid UTF-8. */
static size_t put_non_ascii(tc__buf *b, const unsigned char *s, size_t left, tc_code *rc)
{
    uint32_t cp;
    size_t n = utf8_decode(s, left, &cp);
    if (n == 0)
        return 0;
    if (cp >= 0x10000) {
        cp -= 0x10000;
        *rc = put_u_escape(b, 0xD800 + (cp >> 10));
        if (*rc == TC_OK)
            *rc = put_u_escape(b, 0xDC00 + (cp & 0x3FF));
    } else {
        *rc = put_u_escape(b, cp);
    }
    return n;
}

tc_code tc__jw_string(tc__buf *b, const char *str, size_t len, tc__jw_mode mode)
{
    const unsigned char *s = (const unsigned char *)str;
    tc_code rc = tc__buf_reserve(b, len + 2);
    if (rc != TC_OK)
        return rc;
    b->data[b->len++] = '"';
    size_t start = 0;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        bool plain = c >= 0x20 && c != '"' && c != '\\' && (c < 0x80 || mode == TC__JW_RAW);
        if (plain) {
            i++;
            continue;
        }
        rc = tc__buf_append(b, s + start, i - start);
        if (rc != TC_OK)
            return rc;
        if (c >= 0x80) {
            size_t n = put_non_ascii(b, s + i, len - i, &rc);
            if (n == 0)
                return TC_E_INVALID_ARG;
            i += n;
        } else {
            const char *esc = short_escape(c);
            rc = esc != NULL ? tc__buf_append_str(b, esc) : put_u_escape(b, c);
            i++;
        }
        if (rc != TC_OK)
            return rc;
        start = i;
    }
    rc = tc__buf_append(b, s + start, len - start);
    if (rc != TC_OK)
        return rc;
    return tc__buf_append(b, "\"", 1);
}

tc_code tc__jw_cstr(tc__buf *b, const char *s)
{
    return tc__jw_string(b, s != NULL ? s : "", s != NULL ? strlen(s) : 0, TC__JW_ASCII);
}

tc_code tc__jw_u64(tc__buf *b, uint64_t v)
{
    char tmp[24];
    size_t n = sizeof tmp;
    do {
        tmp[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    return tc__buf_append(b, tmp + n, sizeof tmp - n);
}

tc_code tc__jw_i64(tc__buf *b, int64_t v)
{
    if (v >= 0)
        return tc__jw_u64(b, (uint64_t)v);
    tc_code rc = tc__buf_append(b, "-", 1);
    if (rc != TC_OK)
        return rc;
    /* Negate in unsigned arithmetic so INT64_MIN works. */
    return tc__jw_u64(b, 0 - (uint64_t)v);
}

/* Shortest significant digits of positive finite `v` that read back as `v`:
 * fills digits (no dot, no trailing zeros) and returns their count; *exp10 is
 * the decimal exponent of the first digit (v = d.ddd x 10^exp10). */
static size_t shortest_digits(double v, char digits[24], int *exp10)
{
    char tmp[40];
    /* A double carries more than 15 significant digits, so when 15 digits
     * read back, the shortest form is those digits without trailing zeros.
     * Subnormals carry fewer, so they search from one digit up. */
    for (int prec = v < DBL_MIN ? 1 : 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, v);
        if (prec == 17 || strtod(tmp, NULL) == v)
            break;
    }
    /* tmp is "d[.ddd]e[+-]xx"; the separator may be locale-specific. */
    size_t n = 0;
    digits[n++] = tmp[0];
    const char *p = tmp + 1;
    if (*p != 'e')
        p++;
    while (*p >= '0' && *p <= '9')
        digits[n++] = *p++;
    *exp10 = (int)strtol(p + 1, NULL, 10);
    while (n > 1 && digits[n - 1] == '0')
        n--;
    return n;
}

/* Lay out digits x 10^(exp10 - n + 1) as rapidjson's Prettify() does. */
static size_t prettify(const char *digits, size_t n, int exp10, char *out)
{
    int len = (int)n;
    int kk = exp10 + 1; /* 10^(kk-1) <= v < 10^kk */
    size_t o = 0;
    if (kk >= len && kk <= 21) {
        memcpy(out, digits, n);
        o = n;
        for (int i = len; i < kk; i++)
            out[o++] = '0';
        out[o++] = '.';
        out[o++] = '0';
    } else if (kk > 0 && kk <= 21) {
        memcpy(out, digits, (size_t)kk);
        o = (size_t)kk;
        out[o++] = '.';
        memcpy(out + o, digits + kk, n - (size_t)kk);
        o += n - (size_t)kk;
    } else if (kk > -6 && kk <= 0) {
        out[o++] = '0';
        out[o++] = '.';
        for (int i = kk; i < 0; i++)
            out[o++] = '0';
        memcpy(out + o, digits, n);
        o += n;
    } else {
        out[o++] = digits[0];
        if (n > 1) {
            out[o++] = '.';
            memcpy(out + o, digits + 1, n - 1);
            o += n - 1;
        }
        o += (size_t)snprintf(out + o, 8, "e%d", kk - 1);
    }
    return o;
}

tc_code tc__jw_double(tc__buf *b, double v)
{
    if (isnan(v))
        return TC__JW_LIT(b, "NaN");
    if (isinf(v))
        return v > 0 ? TC__JW_LIT(b, "Infinity") : TC__JW_LIT(b, "-Infinity");
    char out[64];
    size_t o = 0;
    if (signbit(v)) {
        out[o++] = '-';
        v = -v;
    }
    if (v == 0) {
        memcpy(out + o, "0.0", 3);
        return tc__buf_append(b, out, o + 3);
    }
    char digits[24];
    int exp10;
    size_t n = shortest_digits(v, digits, &exp10);
    o += prettify(digits, n, exp10, out + o);
    return tc__buf_append(b, out, o);
}

tc_code tc__jw_shape(tc__buf *b, const int64_t *shape, size_t ndim)
{
    tc_code rc = tc__buf_append(b, "[", 1);
    for (size_t i = 0; i < ndim && rc == TC_OK; i++) {
        if (i > 0)
            rc = tc__buf_append(b, ",", 1);
        if (rc == TC_OK)
            rc = tc__jw_i64(b, shape[i]);
    }
    if (rc == TC_OK)
        rc = tc__buf_append(b, "]", 1);
    return rc;
}

tc_code tc__jw_param_value(tc__buf *b, const tc__param *p)
{
    switch (p->type) {
    case TC__PARAM_BOOL:
        return p->v.b ? TC__JW_LIT(b, "true") : TC__JW_LIT(b, "false");
    case TC__PARAM_INT64:
        return tc__jw_i64(b, p->v.i64);
    case TC__PARAM_UINT64:
        return tc__jw_u64(b, p->v.u64);
    case TC__PARAM_DOUBLE:
        return tc__jw_double(b, p->v.d);
    case TC__PARAM_STRING:
        return tc__jw_cstr(b, p->v.s);
    }
    return TC_E_INVALID_ARG;
}

static uint64_t load_le(const uint8_t *p, size_t size)
{
    uint64_t v = 0;
    for (size_t i = size; i > 0; i--)
        v = (v << 8) | p[i - 1];
    return v;
}

/* One fixed-size element at p as JSON. */
static tc_code put_element(tc__buf *b, tc_dtype dtype, const uint8_t *p)
{
    switch (dtype) {
    case TC_DTYPE_BOOL:
        return p[0] ? TC__JW_LIT(b, "true") : TC__JW_LIT(b, "false");
    case TC_DTYPE_UINT8:
        return tc__jw_u64(b, p[0]);
    case TC_DTYPE_UINT16:
        return tc__jw_u64(b, load_le(p, 2));
    case TC_DTYPE_UINT32:
        return tc__jw_u64(b, load_le(p, 4));
    case TC_DTYPE_UINT64:
        return tc__jw_u64(b, load_le(p, 8));
    case TC_DTYPE_INT8:
        return tc__jw_i64(b, (int8_t)p[0]);
    case TC_DTYPE_INT16:
        return tc__jw_i64(b, (int16_t)(uint16_t)load_le(p, 2));
    case TC_DTYPE_INT32:
        return tc__jw_i64(b, (int32_t)(uint32_t)load_le(p, 4));
    case TC_DTYPE_INT64:
        return tc__jw_i64(b, (int64_t)load_le(p, 8));
    case TC_DTYPE_FP32: {
        uint32_t bits = (uint32_t)load_le(p, 4);
        float f;
        memcpy(&f, &bits, sizeof f);
        return tc__jw_double(b, (double)f);
    }
    case TC_DTYPE_FP64: {
        uint64_t bits = load_le(p, 8);
        double d;
        memcpy(&d, &bits, sizeof d);
        return tc__jw_double(b, d);
    }
    default:
        return TC_E_INVALID_ARG;
    }
}

static tc_code put_bytes_elements(tc__buf *b, const uint8_t *data, size_t byte_size,
                                  tc__jw_mode mode, const char *name, tc__error *err)
{
    size_t pos = 0;
    bool first = true;
    for (;;) {
        const uint8_t *elem;
        size_t elem_len;
        tc_code rc = tc__bytes_next(data, byte_size, &pos, &elem, &elem_len);
        if (rc == TC_E_NOT_FOUND)
            return TC_OK;
        if (rc != TC_OK)
            return tc__error_set(err, rc, "incomplete string length indicator for '%s'", name);
        if (!first) {
            rc = tc__buf_append(b, ",", 1);
            if (rc != TC_OK)
                return tc__error_set(err, rc, "out of memory");
        }
        first = false;
        rc = tc__jw_string(b, (const char *)elem, elem_len, mode);
        if (rc == TC_E_INVALID_ARG)
            return tc__error_set(err, rc,
                                 "BYTES data of '%s' is not valid UTF-8 and cannot be sent as "
                                 "JSON; use the binary data format",
                                 name);
        if (rc != TC_OK)
            return tc__error_set(err, rc, "out of memory");
    }
}

tc_code tc__jw_tensor_data(tc__buf *b, tc_dtype dtype, const uint8_t *data, size_t byte_size,
                           tc__jw_mode mode, const char *name, tc__error *err)
{
    if (dtype == TC_DTYPE_FP16 || dtype == TC_DTYPE_BF16)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "sending %s data via JSON is not supported. Please use the binary "
                             "data format for '%s'",
                             tc_dtype_name(dtype), name);
    tc_code rc = tc__buf_append(b, "[", 1);
    if (rc != TC_OK)
        return tc__error_set(err, rc, "out of memory");
    if (dtype == TC_DTYPE_BYTES) {
        rc = put_bytes_elements(b, data, byte_size, mode, name, err);
        if (rc != TC_OK)
            return rc;
    } else {
        size_t size = tc_dtype_size(dtype);
        if (size == 0 || byte_size % size != 0)
            return tc__error_set(err, TC_E_INVALID_ARG,
                                 "byte size %zu of '%s' is not a multiple of its %s element size",
                                 byte_size, name, size ? tc_dtype_name(dtype) : "datatype");
        /* Rough reservation: most elements print in under 8 bytes. */
        rc = tc__buf_reserve(b, byte_size / size * 8);
        for (size_t off = 0; off < byte_size && rc == TC_OK; off += size) {
            if (off > 0)
                rc = tc__buf_append(b, ",", 1);
            if (rc == TC_OK)
                rc = put_element(b, dtype, data + off);
        }
        if (rc != TC_OK)
            return tc__error_set(err, rc, "out of memory");
    }
    rc = tc__buf_append(b, "]", 1);
    if (rc != TC_OK)
        return tc__error_set(err, rc, "out of memory");
    return TC_OK;
}
