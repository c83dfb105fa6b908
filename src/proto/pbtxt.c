/* Protobuf text format (config.pbtxt) reader driven by protobuf-c
 * descriptors, so one reader fills any message type.
 *
 * Grammar accepted (a superset of what Triton's configs use):
 *   body   := { field [',' | ';'] }
 *   field  := IDENT ':' scalar | IDENT ':' '[' [scalar {',' scalar}] ']'
 *           | IDENT [':'] message | IDENT [':'] '[' [message {',' message}] ']'
 *   message:= '{' body '}' | '<' body '>'
 *   scalar := ['-'] NUMBER | ['-'] IDENT (enum, bool, inf, nan) | STRING {STRING}
 * Maps are repeated `{ key: .. value: .. }` entries; the last entry for a key
 * wins. `#` starts a comment up to the end of the line.
 *
 * Safety: the input is (ptr, len) and never needs a NUL; every read checks
 * `end`; nesting is bounded by TC__PB_MAX_DEPTH. Values are parsed before
 * they are stored, and every allocation hangs off the message tree at once,
 * so an error anywhere frees everything with one free_unpacked. */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "pbtxt.h"
#include "proto/model_config.h"

typedef enum tok_kind { TOK_EOF, TOK_IDENT, TOK_NUMBER, TOK_STRING, TOK_PUNCT } tok_kind;

typedef struct token {
    tok_kind kind;
    const char *s; /* start in the input; strings include their quotes */
    size_t len;
    size_t line;
    size_t col;
} token;

typedef struct parser {
    const char *p;
    const char *end;
    size_t line; /* position of p, 1-based */
    size_t col;
    token tok; /* the lookahead token */
    int depth;
    tc__error *err;
} parser;

/* A parsed value before it is stored, wide enough for every field type. */
typedef union pb_value {
    int32_t i32;
    uint32_t u32;
    int64_t i64;
    uint64_t u64;
    float f;
    double d;
    protobuf_c_boolean b;
    int e;
    char *s;
    ProtobufCBinaryData bin;
} pb_value;

__attribute__((format(printf, 3, 4))) static tc_code fail_at(parser *P, const token *at,
                                                             const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return tc__error_set(P->err, TC_E_INVALID_ARG, "line %zu, column %zu: %s", at->line, at->col,
                         msg);
}

static tc_code fail_nomem(parser *P)
{
    return tc__error_set(P->err, TC_E_NOMEM, "out of memory while parsing text format");
}

/* ---- lexer ---------------------------------------------------------------- */

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static void advance(parser *P, size_t n)
{
    for (size_t i = 0; i < n && P->p < P->end; i++) {
        if (*P->p == '\n') {
            P->line++;
            P->col = 1;
        } else {
            P->col++;
        }
        P->p++;
    }
}

static void skip_space_and_comments(parser *P)
{
    while (P->p < P->end) {
        char c = *P->p;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            advance(P, 1);
        } else if (c == '#') {
            while (P->p < P->end && *P->p != '\n')
                advance(P, 1);
        } else {
            break;
        }
    }
}

/* Length of the number starting at p: digits, letters, '_', '.', and a sign
 * right after an exponent 'e' of a decimal number. */
static size_t number_length(const char *p, const char *end)
{
    size_t n = 0;
    bool hex = end - p > 1 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
    while (p + n < end) {
        char c = p[n];
        bool sign = (c == '+' || c == '-') && n > 0 && !hex && (p[n - 1] == 'e' || p[n - 1] == 'E');
        if (!is_alpha(c) && !is_digit(c) && c != '.' && !sign)
            break;
        n++;
    }
    return n;
}

/* Length of the quoted string at p including both quotes, or 0 when it is
 * not closed on its line. */
static size_t string_length(const char *p, const char *end)
{
    char quote = p[0];
    size_t n = 1;
    while (p + n < end && p[n] != quote && p[n] != '\n') {
        if (p[n] == '\\' && p + n + 1 < end && p[n + 1] != '\n')
            n++;
        n++;
    }
    return p + n < end && p[n] == quote ? n + 1 : 0;
}

/* Read the next token into P->tok. */
static tc_code next(parser *P)
{
    skip_space_and_comments(P);
    token *t = &P->tok;
    t->s = P->p;
    t->line = P->line;
    t->col = P->col;
    t->len = 0;
    if (P->p >= P->end) {
        t->kind = TOK_EOF;
        return TC_OK;
    }
    char c = *P->p;
    if (is_alpha(c)) {
        t->kind = TOK_IDENT;
        while (P->p + t->len < P->end && (is_alpha(P->p[t->len]) || is_digit(P->p[t->len])))
            t->len++;
    } else if (is_digit(c) || (c == '.' && P->end - P->p > 1 && is_digit(P->p[1]))) {
        t->kind = TOK_NUMBER;
        t->len = number_length(P->p, P->end);
    } else if (c == '"' || c == '\'') {
        t->kind = TOK_STRING;
        t->len = string_length(P->p, P->end);
        if (t->len == 0)
            return fail_at(P, t, "unterminated string");
    } else if (strchr("{}<>[]:,;-", c) != NULL) {
        t->kind = TOK_PUNCT;
        t->len = 1;
    } else {
        return fail_at(P, t, "unexpected character 0x%02x", (unsigned)(unsigned char)c);
    }
    advance(P, t->len);
    return TC_OK;
}

static bool at_punct(const parser *P, char c)
{
    return P->tok.kind == TOK_PUNCT && P->tok.s[0] == c;
}

static bool tok_is(const token *t, const char *word)
{
    return t->len == strlen(word) && memcmp(t->s, word, t->len) == 0;
}

/* Copy a token's text into `buf` (NUL-terminated); false when too long. */
static bool tok_copy(const token *t, char *buf, size_t size)
{
    if (t->len >= size)
        return false;
    memcpy(buf, t->s, t->len);
    buf[t->len] = '\0';
    return true;
}

/* ---- numbers -------------------------------------------------------------- */

static int digit_value(char c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return 99;
}

/* Parse an unsigned integer token: decimal, 0x hex or 0 octal. */
static bool parse_magnitude(const token *t, uint64_t *out)
{
    const char *s = t->s;
    size_t n = t->len;
    unsigned base = 10;
    if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        n -= 2;
    } else if (n > 1 && s[0] == '0') {
        base = 8;
        s++;
        n--;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        int d = digit_value(s[i]);
        if (d < 0 || (unsigned)d >= base)
            return false;
        if (v > (UINT64_MAX - (unsigned)d) / base)
            return false;
        v = v * base + (unsigned)d;
    }
    *out = v;
    return n > 0;
}

/* An optional '-' then an integer in [min, max] (max for unsigned types). */
static tc_code parse_integer(parser *P, int64_t min, uint64_t max, bool *neg, uint64_t *mag)
{
    *neg = at_punct(P, '-');
    if (*neg && next(P) != TC_OK)
        return TC_E_INVALID_ARG;
    token t = P->tok;
    if (t.kind != TOK_NUMBER || !parse_magnitude(&t, mag))
        return fail_at(P, &t, "expected an integer");
    uint64_t limit = *neg ? (min < 0 ? (uint64_t)(-(min + 1)) + 1u : 0u) : max;
    if (*mag > limit)
        return fail_at(P, &t, "integer %s%.*s out of range", *neg ? "-" : "", (int)t.len, t.s);
    return next(P);
}

static tc_code parse_signed(parser *P, int64_t min, int64_t max, int64_t *out)
{
    bool neg = false;
    uint64_t mag = 0;
    tc_code rc = parse_integer(P, min, (uint64_t)max, &neg, &mag);
    if (rc != TC_OK)
        return rc;
    /* mag <= 2^63 here; negate in unsigned arithmetic to avoid overflow. */
    *out = neg ? (int64_t)(0u - mag) : (int64_t)mag;
    return TC_OK;
}

static tc_code parse_unsigned(parser *P, uint64_t max, uint64_t *out)
{
    bool neg = false;
    return parse_integer(P, 0, max, &neg, out);
}

/* A decimal float literal: digits, '.', exponent, optional f suffix. */
static bool float_literal(const token *t, double *out)
{
    char buf[128];
    size_t n = t->len;
    if (n > 0 && (t->s[n - 1] == 'f' || t->s[n - 1] == 'F'))
        n--;
    if (n == 0 || n >= sizeof buf)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = t->s[i];
        if (!is_digit(c) && c != '.' && c != 'e' && c != 'E' && c != '+' && c != '-')
            return false;
    }
    memcpy(buf, t->s, n);
    buf[n] = '\0';
    char *endp = NULL;
    *out = strtod(buf, &endp);
    return endp == buf + n;
}

static bool ident_ci(const token *t, const char *word)
{
    size_t n = strlen(word);
    if (t->len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = t->s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != word[i])
            return false;
    }
    return true;
}

static tc_code parse_double(parser *P, double *out)
{
    bool neg = at_punct(P, '-');
    if (neg && next(P) != TC_OK)
        return TC_E_INVALID_ARG;
    token t = P->tok;
    uint64_t mag = 0;
    double v = 0.0;
    if (t.kind == TOK_IDENT && (ident_ci(&t, "inf") || ident_ci(&t, "infinity")))
        v = INFINITY;
    else if (t.kind == TOK_IDENT && ident_ci(&t, "nan"))
        v = NAN;
    else if (t.kind == TOK_NUMBER && parse_magnitude(&t, &mag))
        v = (double)mag;
    else if (t.kind != TOK_NUMBER || !float_literal(&t, &v))
        return fail_at(P, &t, "expected a number");
    *out = neg ? -v : v;
    return next(P);
}

static tc_code parse_float(parser *P, float *out)
{
    double d = 0.0;
    tc_code rc = parse_double(P, &d);
    if (rc != TC_OK)
        return rc;
    if (d > (double)FLT_MAX)
        d = INFINITY;
    else if (d < -(double)FLT_MAX)
        d = -INFINITY;
    *out = (float)d;
    return TC_OK;
}

static tc_code parse_bool(parser *P, protobuf_c_boolean *out)
{
    token t = P->tok;
    if (tok_is(&t, "true") || tok_is(&t, "True") || tok_is(&t, "t") ||
        (t.kind == TOK_NUMBER && tok_is(&t, "1")))
        *out = 1;
    else if (tok_is(&t, "false") || tok_is(&t, "False") || tok_is(&t, "f") ||
             (t.kind == TOK_NUMBER && tok_is(&t, "0")))
        *out = 0;
    else
        return fail_at(P, &t, "expected true or false");
    return next(P);
}

static tc_code parse_enum(parser *P, const ProtobufCEnumDescriptor *ed, int *out)
{
    token t = P->tok;
    if (t.kind == TOK_IDENT) {
        char name[128];
        const ProtobufCEnumValue *v = tok_copy(&t, name, sizeof name)
                                          ? protobuf_c_enum_descriptor_get_value_by_name(ed, name)
                                          : NULL;
        if (v == NULL)
            return fail_at(P, &t, "unknown value '%.*s' for enum %s",
                           (int)(t.len > 100 ? 100 : t.len), t.s, ed->name);
        *out = v->value;
        return next(P);
    }
    int64_t n = 0;
    tc_code rc = parse_signed(P, INT32_MIN, INT32_MAX, &n);
    if (rc != TC_OK)
        return rc;
    if (protobuf_c_enum_descriptor_get_value(ed, (int)n) == NULL)
        return fail_at(P, &t, "unknown number %d for enum %s", (int)n, ed->name);
    *out = (int)n;
    return TC_OK;
}

/* ---- strings -------------------------------------------------------------- */

static tc_code put_utf8(tc__buf *b, uint32_t cp)
{
    uint8_t u[4];
    size_t n = 0;
    if (cp < 0x80) {
        u[n++] = (uint8_t)cp;
    } else if (cp < 0x800) {
        u[n++] = (uint8_t)(0xC0 | (cp >> 6));
        u[n++] = (uint8_t)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        u[n++] = (uint8_t)(0xE0 | (cp >> 12));
        u[n++] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        u[n++] = (uint8_t)(0x80 | (cp & 0x3F));
    } else {
        u[n++] = (uint8_t)(0xF0 | (cp >> 18));
        u[n++] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
        u[n++] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        u[n++] = (uint8_t)(0x80 | (cp & 0x3F));
    }
    return tc__buf_append(b, u, n);
}

/* Read up to `max` digits of `base` from s[*i..n); returns the digit count. */
static size_t read_digits(const char *s, size_t n, size_t *i, unsigned base, size_t max,
                          uint32_t *v)
{
    size_t k = 0;
    *v = 0;
    while (k < max && *i < n) {
        int d = digit_value(s[*i]);
        if (d < 0 || (unsigned)d >= base)
            break;
        *v = *v * base + (unsigned)d;
        (*i)++;
        k++;
    }
    return k;
}

/* Decode the escape at s[*i] (just after the backslash) into b.
 * Returns false for an invalid escape. */
static bool decode_escape(const char *s, size_t n, size_t *i, tc__buf *b, tc_code *rc)
{
    static const char simple_in[] = "abfnrtv\\'\"?";
    static const char simple_out[] = "\a\b\f\n\r\t\v\\'\"?";
    char c = s[*i];
    const char *hit = strchr(simple_in, c);
    uint32_t v = 0;
    if (c != '\0' && hit != NULL) {
        (*i)++;
        *rc = tc__buf_append(b, &simple_out[hit - simple_in], 1);
        return true;
    }
    if (c >= '0' && c <= '7') {
        (void)read_digits(s, n, i, 8, 3, &v);
        uint8_t byte = (uint8_t)(v & 0xFF);
        *rc = tc__buf_append(b, &byte, 1);
        return true;
    }
    size_t want = c == 'x' || c == 'X' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : 0;
    if (want == 0)
        return false;
    (*i)++;
    size_t got = read_digits(s, n, i, 16, want, &v);
    if (want == 2 && got > 0) {
        uint8_t byte = (uint8_t)v;
        *rc = tc__buf_append(b, &byte, 1);
        return true;
    }
    if (got != want || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return false;
    *rc = put_utf8(b, v);
    return true;
}

/* Decode one quoted string token (quotes included) and append it to b. */
static tc_code decode_string(parser *P, const token *t, tc__buf *b)
{
    const char *s = t->s + 1;
    size_t n = t->len - 2;
    size_t i = 0;
    tc_code rc = TC_OK;
    while (i < n && rc == TC_OK) {
        size_t start = i;
        while (i < n && s[i] != '\\')
            i++;
        rc = tc__buf_append(b, s + start, i - start);
        if (rc != TC_OK || i >= n)
            break;
        i++; /* the backslash; the lexer guarantees a character follows */
        if (i >= n || !decode_escape(s, n, &i, b, &rc))
            return fail_at(P, t, "invalid escape sequence in string");
    }
    return rc == TC_OK ? TC_OK : fail_nomem(P);
}

/* One or more adjacent string tokens, concatenated. */
static tc_code parse_string(parser *P, bool binary, pb_value *v)
{
    tc__buf b = TC__BUF_INIT;
    tc_code rc = TC_OK;
    if (P->tok.kind != TOK_STRING)
        return fail_at(P, &P->tok, "expected a quoted string");
    while (rc == TC_OK && P->tok.kind == TOK_STRING) {
        rc = decode_string(P, &P->tok, &b);
        if (rc == TC_OK)
            rc = next(P);
    }
    if (rc == TC_OK && tc__buf_reserve(&b, 0) != TC_OK)
        rc = fail_nomem(P);
    if (rc != TC_OK) {
        tc__buf_cleanup(&b);
        return rc;
    }
    b.data[b.len] = '\0'; /* an empty string has had no append to terminate it */
    if (binary) {
        v->bin.len = b.len;
        v->bin.data = tc__buf_steal(&b, NULL);
    } else {
        v->s = (char *)tc__buf_steal(&b, NULL);
    }
    return TC_OK;
}

/* ---- values and fields ---------------------------------------------------- */

static tc_code parse_value(parser *P, const ProtobufCFieldDescriptor *f, pb_value *v)
{
    int64_t i = 0;
    uint64_t u = 0;
    tc_code rc;
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        rc = parse_signed(P, INT32_MIN, INT32_MAX, &i);
        v->i32 = (int32_t)i;
        return rc;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return parse_signed(P, INT64_MIN, INT64_MAX, &v->i64);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        rc = parse_unsigned(P, UINT32_MAX, &u);
        v->u32 = (uint32_t)u;
        return rc;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return parse_unsigned(P, UINT64_MAX, &v->u64);
    case PROTOBUF_C_TYPE_FLOAT:
        return parse_float(P, &v->f);
    case PROTOBUF_C_TYPE_DOUBLE:
        return parse_double(P, &v->d);
    case PROTOBUF_C_TYPE_BOOL:
        return parse_bool(P, &v->b);
    case PROTOBUF_C_TYPE_ENUM:
        return parse_enum(P, f->descriptor, &v->e);
    case PROTOBUF_C_TYPE_STRING:
        return parse_string(P, false, v);
    case PROTOBUF_C_TYPE_BYTES:
        return parse_string(P, true, v);
    default:
        return fail_at(P, &P->tok, "unsupported field type");
    }
}

static void value_release(const ProtobufCFieldDescriptor *f, pb_value *v)
{
    if (f->type == PROTOBUF_C_TYPE_STRING)
        tc__free(v->s);
    else if (f->type == PROTOBUF_C_TYPE_BYTES)
        tc__free(v->bin.data);
}

static tc_code slot_error(parser *P, const token *at, const ProtobufCFieldDescriptor *f, tc_code rc)
{
    if (rc == TC_E_ALREADY_EXISTS)
        return fail_at(P, at, "field '%s' is set along with another member of its oneof", f->name);
    return fail_nomem(P);
}

static tc_code parse_scalar_field(parser *P, ProtobufCMessage *msg,
                                  const ProtobufCFieldDescriptor *f)
{
    token at = P->tok;
    pb_value v;
    memset(&v, 0, sizeof v);
    tc_code rc = parse_value(P, f, &v);
    if (rc != TC_OK)
        return rc;
    void *slot = NULL;
    rc = tc__pb_field_slot(msg, f, &slot);
    if (rc != TC_OK) {
        value_release(f, &v);
        return slot_error(P, &at, f, rc);
    }
    memcpy(slot, &v, tc__pb_value_size(f->type));
    return TC_OK;
}

static tc_code parse_body(parser *P, ProtobufCMessage *msg, char closer);

static tc_code parse_message_field(parser *P, ProtobufCMessage *msg,
                                   const ProtobufCFieldDescriptor *f)
{
    token at = P->tok;
    if (!at_punct(P, '{') && !at_punct(P, '<'))
        return fail_at(P, &at, "expected '{' or '<' to open message field '%s'", f->name);
    if (P->depth >= TC__PB_MAX_DEPTH)
        return fail_at(P, &at, "messages nested deeper than %d levels", TC__PB_MAX_DEPTH);
    char closer = at.s[0] == '{' ? '}' : '>';
    ProtobufCMessage *sub = NULL;
    tc_code rc = tc__pb_field_message(msg, f, &sub);
    if (rc != TC_OK)
        return slot_error(P, &at, f, rc);
    rc = next(P);
    if (rc != TC_OK)
        return rc;
    P->depth++;
    rc = parse_body(P, sub, closer);
    P->depth--;
    if (rc == TC_OK && tc__pb_field_is_map(f))
        tc__pb_map_dedupe(msg, f);
    return rc;
}

static tc_code parse_one(parser *P, ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
    if (f->type == PROTOBUF_C_TYPE_MESSAGE)
        return parse_message_field(P, msg, f);
    return parse_scalar_field(P, msg, f);
}

/* '[' [value {',' value}] ']' for a repeated field. */
static tc_code parse_list(parser *P, ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
    tc_code rc = next(P);
    if (rc != TC_OK)
        return rc;
    if (at_punct(P, ']'))
        return next(P);
    for (;;) {
        rc = parse_one(P, msg, f);
        if (rc != TC_OK)
            return rc;
        if (at_punct(P, ']'))
            return next(P);
        if (!at_punct(P, ','))
            return fail_at(P, &P->tok, "expected ',' or ']' in the list of '%s'", f->name);
        rc = next(P);
        if (rc != TC_OK)
            return rc;
    }
}

static tc_code parse_field(parser *P, ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
    bool colon = at_punct(P, ':');
    if (colon && next(P) != TC_OK)
        return TC_E_INVALID_ARG;
    if (!colon && f->type != PROTOBUF_C_TYPE_MESSAGE)
        return fail_at(P, &P->tok, "expected ':' after field '%s'", f->name);
    if (at_punct(P, '[')) {
        if (f->label != PROTOBUF_C_LABEL_REPEATED)
            return fail_at(P, &P->tok, "field '%s' is not repeated", f->name);
        return parse_list(P, msg, f);
    }
    return parse_one(P, msg, f);
}

static const ProtobufCFieldDescriptor *lookup_field(const ProtobufCMessage *msg, const token *t)
{
    char name[128];
    if (!tok_copy(t, name, sizeof name))
        return NULL;
    return protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, name);
}

/* Fields up to `closer` (consumed), or to the end of input when closer is 0. */
static tc_code parse_body(parser *P, ProtobufCMessage *msg, char closer)
{
    for (;;) {
        token t = P->tok;
        if (t.kind == TOK_EOF) {
            if (closer == '\0')
                return TC_OK;
            return fail_at(P, &t, "expected '%c' before the end of input", closer);
        }
        if (closer != '\0' && at_punct(P, closer))
            return next(P);
        if (t.kind != TOK_IDENT)
            return fail_at(P, &t, "expected a field name");
        const ProtobufCFieldDescriptor *f = lookup_field(msg, &t);
        if (f == NULL)
            return fail_at(P, &t, "unknown field '%.*s' in %s", (int)(t.len > 100 ? 100 : t.len),
                           t.s, msg->descriptor->name);
        tc_code rc = next(P);
        if (rc == TC_OK)
            rc = parse_field(P, msg, f);
        if (rc == TC_OK && (at_punct(P, ',') || at_punct(P, ';')))
            rc = next(P);
        if (rc != TC_OK)
            return rc;
    }
}

tc_code tc__pbtxt_parse(const ProtobufCMessageDescriptor *desc, const char *text, size_t len,
                        ProtobufCMessage **out, tc__error *err)
{
    if (desc == NULL || out == NULL || (text == NULL && len > 0))
        return tc__error_set(err, TC_E_INVALID_ARG, "invalid arguments to the text parser");
    *out = NULL;
    if (text == NULL)
        text = "";
    ProtobufCMessage *msg = tc__pb_message_new(desc);
    if (msg == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory while parsing text format");
    parser P = {text, text + len, 1, 1, {TOK_EOF, text, 0, 1, 1}, 0, err};
    tc_code rc = next(&P);
    if (rc == TC_OK)
        rc = parse_body(&P, msg, '\0');
    if (rc != TC_OK) {
        protobuf_c_message_free_unpacked(msg, tc__pb_allocator());
        return rc;
    }
    *out = msg;
    return TC_OK;
}
