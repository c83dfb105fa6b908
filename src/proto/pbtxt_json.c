/* Descriptor-driven JSON writer and reader for protobuf-c messages, in the
 * shape protobuf's own JSON printer produces with "preserve proto field
 * names" and "always print primitive fields" (see pbtxt.h). */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/alloc.h"
#include "common/base64.h"
#include "pbtxt.h"
#include "proto/model_config.h"

#define PATH_MAX_LEN 512

/* ==== writer =============================================================== */

typedef struct json_writer {
    tc__buf *out;
    const tc__pb_json_opts *opts;
    char path[PATH_MAX_LEN];
    size_t path_len;
} json_writer;

static tc_code write_message(json_writer *w, const ProtobufCMessage *msg,
                             const ProtobufCMessageDescriptor *desc);

/* Append ".name" (or "name" at the root) to the path; returns the old length.
 * A path too long to hold is cut, which only means it matches nothing. */
static size_t path_push(json_writer *w, const char *name)
{
    size_t old = w->path_len;
    int n = snprintf(w->path + old, sizeof w->path - old, "%s%s", old ? "." : "", name);
    if (n < 0 || (size_t)n >= sizeof w->path - old)
        w->path_len = sizeof w->path - 1;
    else
        w->path_len = old + (size_t)n;
    return old;
}

static void path_pop(json_writer *w, size_t old)
{
    w->path_len = old;
    w->path[old] = '\0';
}

static bool int64_as_number(const json_writer *w)
{
    if (w->opts == NULL)
        return false;
    for (size_t i = 0; i < w->opts->number_path_count; i++) {
        if (strcmp(w->opts->number_paths[i], w->path) == 0)
            return true;
    }
    return false;
}

static tc_code write_string(tc__buf *out, const char *s, size_t len)
{
    tc_code rc = tc__buf_append(out, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < len && rc == TC_OK; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
            continue;
        rc = tc__buf_append(out, s + run, i - run);
        run = i + 1;
        if (rc != TC_OK)
            break;
        if (c == '"' || c == '\\')
            rc = tc__buf_printf(out, "\\%c", c);
        else if (c == '\n')
            rc = tc__buf_append_str(out, "\\n");
        else if (c == '\t')
            rc = tc__buf_append_str(out, "\\t");
        else if (c == '\r')
            rc = tc__buf_append_str(out, "\\r");
        else
            rc = tc__buf_printf(out, "\\u%04x", (unsigned)c);
    }
    if (rc == TC_OK)
        rc = tc__buf_append(out, s + run, len - run);
    if (rc == TC_OK)
        rc = tc__buf_append(out, "\"", 1);
    return rc;
}

/* Shortest %g form that reads back as the same value. */
static tc_code write_floating(tc__buf *out, double v, bool single)
{
    if (isnan(v))
        return tc__buf_append_str(out, "\"NaN\"");
    if (isinf(v))
        return tc__buf_append_str(out, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    char buf[64];
    int lo = single ? 6 : 15;
    int hi = single ? 9 : 17;
    for (int prec = lo; prec <= hi; prec++) {
        (void)snprintf(buf, sizeof buf, "%.*g", prec, v);
        bool same = single ? strtof(buf, NULL) == (float)v : strtod(buf, NULL) == v;
        if (same)
            break;
    }
    return tc__buf_append_str(out, buf);
}

static tc_code write_enum(tc__buf *out, const ProtobufCEnumDescriptor *ed, int v)
{
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(ed, v);
    if (ev == NULL)
        return tc__buf_printf(out, "%d", v);
    return tc__buf_printf(out, "\"%s\"", ev->name);
}

static tc_code write_bytes(tc__buf *out, const ProtobufCBinaryData *b)
{
    tc_code rc = tc__buf_append(out, "\"", 1);
    if (rc == TC_OK && b->len > 0)
        rc = tc__base64_encode(b->data, b->len, out);
    if (rc == TC_OK)
        rc = tc__buf_append(out, "\"", 1);
    return rc;
}

static tc_code write_int64(json_writer *w, const void *p, bool is_signed)
{
    const char *quote = int64_as_number(w) ? "" : "\"";
    if (is_signed)
        return tc__buf_printf(w->out, "%s%" PRId64 "%s", quote, *(const int64_t *)p, quote);
    return tc__buf_printf(w->out, "%s%" PRIu64 "%s", quote, *(const uint64_t *)p, quote);
}

/* One value of field f stored at p. */
static tc_code write_value(json_writer *w, const ProtobufCFieldDescriptor *f, const void *p)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return tc__buf_printf(w->out, "%" PRId32, *(const int32_t *)p);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return tc__buf_printf(w->out, "%" PRIu32, *(const uint32_t *)p);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return write_int64(w, p, true);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return write_int64(w, p, false);
    case PROTOBUF_C_TYPE_FLOAT:
        return write_floating(w->out, (double)*(const float *)p, true);
    case PROTOBUF_C_TYPE_DOUBLE:
        return write_floating(w->out, *(const double *)p, false);
    case PROTOBUF_C_TYPE_BOOL:
        return tc__buf_append_str(w->out, *(const protobuf_c_boolean *)p ? "true" : "false");
    case PROTOBUF_C_TYPE_ENUM:
        return write_enum(w->out, f->descriptor, *(const int *)p);
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        return s == NULL ? write_string(w->out, "", 0) : write_string(w->out, s, strlen(s));
    }
    case PROTOBUF_C_TYPE_BYTES:
        return write_bytes(w->out, p);
    case PROTOBUF_C_TYPE_MESSAGE:
        return write_message(w, *(ProtobufCMessage *const *)p, f->descriptor);
    }
    return TC_E_INVALID_ARG;
}

/* A map key as a JSON object key (always a string). */
static tc_code write_map_key(json_writer *w, const ProtobufCFieldDescriptor *kf, const void *p)
{
    if (kf->type == PROTOBUF_C_TYPE_STRING)
        return write_value(w, kf, p);
    if (kf->type == PROTOBUF_C_TYPE_BOOL)
        return tc__buf_append_str(w->out,
                                  *(const protobuf_c_boolean *)p ? "\"true\"" : "\"false\"");
    tc__buf num = TC__BUF_INIT;
    json_writer tmp = {&num, NULL, {0}, 0};
    tc_code rc = write_value(&tmp, kf, p);
    if (rc == TC_OK && num.len > 0 && num.data[0] == '"')
        rc = tc__buf_append(w->out, num.data, num.len);
    else if (rc == TC_OK)
        rc = tc__buf_printf(w->out, "\"%s\"", (const char *)num.data);
    tc__buf_cleanup(&num);
    return rc;
}

static tc_code write_map(json_writer *w, const ProtobufCMessage *msg,
                         const ProtobufCFieldDescriptor *f)
{
    const ProtobufCMessageDescriptor *ed = f->descriptor;
    size_t n = tc__pb_field_count(msg, f);
    tc_code rc = tc__buf_append(w->out, "{", 1);
    for (size_t i = 0; i < n && rc == TC_OK; i++) {
        const ProtobufCMessage *entry = *(ProtobufCMessage *const *)tc__pb_field_value(msg, f, i);
        if (i > 0)
            rc = tc__buf_append(w->out, ",", 1);
        if (rc == TC_OK)
            rc = write_map_key(w, &ed->fields[0], (const char *)entry + ed->fields[0].offset);
        if (rc == TC_OK)
            rc = tc__buf_append(w->out, ":", 1);
        if (rc == TC_OK)
            rc = write_value(w, &ed->fields[1], (const char *)entry + ed->fields[1].offset);
    }
    return rc == TC_OK ? tc__buf_append(w->out, "}", 1) : rc;
}

static tc_code write_field(json_writer *w, const ProtobufCMessage *msg,
                           const ProtobufCFieldDescriptor *f)
{
    if (tc__pb_field_is_map(f))
        return write_map(w, msg, f);
    if (f->label != PROTOBUF_C_LABEL_REPEATED)
        return write_value(w, f, tc__pb_field_value(msg, f, 0));
    size_t n = tc__pb_field_count(msg, f);
    tc_code rc = tc__buf_append(w->out, "[", 1);
    for (size_t i = 0; i < n && rc == TC_OK; i++) {
        if (i > 0)
            rc = tc__buf_append(w->out, ",", 1);
        if (rc == TC_OK)
            rc = write_value(w, f, tc__pb_field_value(msg, f, i));
    }
    return rc == TC_OK ? tc__buf_append(w->out, "]", 1) : rc;
}

/* A NULL msg stands for the default instance (a map value left unset). */
static tc_code write_message(json_writer *w, const ProtobufCMessage *msg,
                             const ProtobufCMessageDescriptor *desc)
{
    if (msg == NULL) {
        ProtobufCMessage *def = tc__pb_message_new(desc);
        if (def == NULL)
            return TC_E_NOMEM;
        tc_code rc = write_message(w, def, desc);
        protobuf_c_message_free_unpacked(def, tc__pb_allocator());
        return rc;
    }
    tc_code rc = tc__buf_append(w->out, "{", 1);
    bool first = true;
    for (unsigned i = 0; i < desc->n_fields && rc == TC_OK; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        if (f->label != PROTOBUF_C_LABEL_REPEATED && tc__pb_field_count(msg, f) == 0)
            continue;
        rc = tc__buf_printf(w->out, "%s\"%s\":", first ? "" : ",", f->name);
        first = false;
        size_t old = path_push(w, f->name);
        if (rc == TC_OK)
            rc = write_field(w, msg, f);
        path_pop(w, old);
    }
    return rc == TC_OK ? tc__buf_append(w->out, "}", 1) : rc;
}

tc_code tc__pb_to_json(const ProtobufCMessage *msg, const tc__pb_json_opts *opts, tc__buf *out)
{
    if (msg == NULL || out == NULL)
        return TC_E_INVALID_ARG;
    json_writer w = {out, opts, {0}, 0};
    size_t start = out->len;
    tc_code rc = write_message(&w, msg, msg->descriptor);
    if (rc != TC_OK && out->data != NULL) {
        out->len = start;
        out->data[start] = '\0';
    }
    return rc;
}

/* ==== reader =============================================================== */

typedef struct json_reader {
    tc__error *err;
    int depth;
} json_reader;

typedef union json_value {
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
} json_value;

static tc_code read_message(json_reader *r, json_object *obj, ProtobufCMessage *msg);

static tc_code bad_value(json_reader *r, const ProtobufCFieldDescriptor *f, const char *what)
{
    return tc__error_set(r->err, TC_E_INVALID_ARG, "invalid JSON value for field '%s': %s", f->name,
                         what);
}

static tc_code nomem(json_reader *r)
{
    return tc__error_set(r->err, TC_E_NOMEM, "out of memory while reading JSON");
}

/* Decimal integer text with an optional '-': sign and magnitude. */
static bool parse_decimal(const char *s, size_t len, bool *neg, uint64_t *mag)
{
    size_t i = 0;
    *neg = len > 0 && s[0] == '-';
    if (*neg)
        i++;
    if (i == len)
        return false;
    uint64_t v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *mag = v;
    return true;
}

/* Any JSON integer form (number, integral double, decimal string). */
static bool json_integer(json_object *v, bool *neg, uint64_t *mag)
{
    json_type t = json_object_get_type(v);
    if (t == json_type_int) {
        int64_t i = json_object_get_int64(v);
        *neg = i < 0;
        *mag = i < 0 ? 0u - (uint64_t)i : i == INT64_MAX ? json_object_get_uint64(v) : (uint64_t)i;
        return true;
    }
    if (t == json_type_double) {
        double d = json_object_get_double(v);
        /* In range for the casts below, and integral (no libm needed). */
        if (!(d > -9.2e18 && d < 1.8e19))
            return false;
        *neg = d < 0;
        *mag = d < 0 ? (uint64_t)(-d) : (uint64_t)d;
        return (double)*mag == (d < 0 ? -d : d);
    }
    if (t == json_type_string)
        return parse_decimal(json_object_get_string(v), (size_t)json_object_get_string_len(v), neg,
                             mag);
    return false;
}

static tc_code read_integer(json_reader *r, json_object *v, const ProtobufCFieldDescriptor *f,
                            uint64_t neg_limit, uint64_t pos_limit, json_value *out)
{
    bool neg = false;
    uint64_t mag = 0;
    if (!json_integer(v, &neg, &mag))
        return bad_value(r, f, "expected an integer");
    if (mag > (neg ? neg_limit : pos_limit))
        return bad_value(r, f, "integer out of range");
    uint64_t bits = neg ? 0u - mag : mag;
    if (tc__pb_value_size(f->type) == 4)
        out->u32 = (uint32_t)bits;
    else
        out->u64 = bits;
    return TC_OK;
}

static bool json_floating(json_object *v, double *out)
{
    json_type t = json_object_get_type(v);
    if (t == json_type_int || t == json_type_double) {
        *out = json_object_get_double(v);
        return true;
    }
    if (t != json_type_string)
        return false;
    const char *s = json_object_get_string(v);
    if (strcmp(s, "NaN") == 0 || strcmp(s, "Infinity") == 0 || strcmp(s, "-Infinity") == 0) {
        *out = s[0] == 'N' ? NAN : s[0] == '-' ? -INFINITY : INFINITY;
        return true;
    }
    size_t len = (size_t)json_object_get_string_len(v);
    for (size_t i = 0; i < len; i++) {
        if (strchr("0123456789.eE+-", s[i]) == NULL || s[i] == '\0')
            return false;
    }
    char *end = NULL;
    *out = strtod(s, &end);
    return len > 0 && end == s + len;
}

/* ASCII case-insensitive equality of a NUL-terminated name and (s, len). */
static bool name_equal_ci(const char *name, const char *s, size_t len)
{
    size_t i = 0;
    for (; i < len && name[i] != '\0'; i++) {
        char a = name[i];
        char b = s[i];
        if (a >= 'a' && a <= 'z')
            a = (char)(a - 'a' + 'A');
        if (b >= 'a' && b <= 'z')
            b = (char)(b - 'a' + 'A');
        if (a != b)
            return false;
    }
    return i == len && name[i] == '\0';
}

static tc_code read_enum(json_reader *r, json_object *v, const ProtobufCFieldDescriptor *f,
                         json_value *out)
{
    const ProtobufCEnumDescriptor *ed = f->descriptor;
    if (json_object_get_type(v) == json_type_string) {
        const char *s = json_object_get_string(v);
        size_t len = (size_t)json_object_get_string_len(v);
        for (unsigned i = 0; i < ed->n_values; i++) {
            if (name_equal_ci(ed->values[i].name, s, len)) {
                out->e = ed->values[i].value;
                return TC_OK;
            }
        }
        return bad_value(r, f, "unknown enum name");
    }
    bool neg = false;
    uint64_t mag = 0;
    if (json_object_get_type(v) != json_type_int || !json_integer(v, &neg, &mag) || mag > INT32_MAX)
        return bad_value(r, f, "expected an enum name");
    int n = neg ? -(int)mag : (int)mag;
    if (protobuf_c_enum_descriptor_get_value(ed, n) == NULL)
        return bad_value(r, f, "unknown enum number");
    out->e = n;
    return TC_OK;
}

static tc_code read_text(json_reader *r, json_object *v, const ProtobufCFieldDescriptor *f,
                         json_value *out)
{
    if (json_object_get_type(v) != json_type_string)
        return bad_value(r, f, "expected a string");
    const char *s = json_object_get_string(v);
    size_t len = (size_t)json_object_get_string_len(v);
    if (f->type == PROTOBUF_C_TYPE_STRING) {
        out->s = tc__strndup(s, len);
        return out->s != NULL ? TC_OK : nomem(r);
    }
    tc__buf b = TC__BUF_INIT;
    tc_code rc = tc__base64_decode(s, len, &b);
    if (rc == TC_OK)
        rc = tc__buf_reserve(&b, 0);
    if (rc != TC_OK) {
        tc__buf_cleanup(&b);
        return rc == TC_E_NOMEM ? nomem(r) : bad_value(r, f, "expected base64");
    }
    out->bin.len = b.len;
    out->bin.data = tc__buf_steal(&b, NULL);
    return TC_OK;
}

static tc_code read_scalar(json_reader *r, json_object *v, const ProtobufCFieldDescriptor *f,
                           json_value *out)
{
    double d = 0.0;
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return read_integer(r, v, f, (uint64_t)INT32_MAX + 1u, INT32_MAX, out);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return read_integer(r, v, f, 0, UINT32_MAX, out);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return read_integer(r, v, f, (uint64_t)INT64_MAX + 1u, INT64_MAX, out);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return read_integer(r, v, f, 0, UINT64_MAX, out);
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
        if (!json_floating(v, &d))
            return bad_value(r, f, "expected a number");
        if (f->type == PROTOBUF_C_TYPE_DOUBLE)
            out->d = d;
        else
            out->f = d > (double)FLT_MAX ? INFINITY : d < -(double)FLT_MAX ? -INFINITY : (float)d;
        return TC_OK;
    case PROTOBUF_C_TYPE_BOOL:
        if (json_object_get_type(v) != json_type_boolean)
            return bad_value(r, f, "expected true or false");
        out->b = json_object_get_boolean(v) ? 1 : 0;
        return TC_OK;
    case PROTOBUF_C_TYPE_ENUM:
        return read_enum(r, v, f, out);
    default:
        return read_text(r, v, f, out);
    }
}

static tc_code slot_failed(json_reader *r, const ProtobufCFieldDescriptor *f, tc_code rc)
{
    if (rc == TC_E_ALREADY_EXISTS)
        return tc__error_set(r->err, TC_E_INVALID_ARG,
                             "field '%s' is set along with another member of its oneof", f->name);
    return nomem(r);
}

/* One value of field f (an element, for repeated fields). */
static tc_code read_element(json_reader *r, json_object *v, ProtobufCMessage *msg,
                            const ProtobufCFieldDescriptor *f)
{
    if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
        ProtobufCMessage *sub = NULL;
        tc_code rc = tc__pb_field_message(msg, f, &sub);
        if (rc != TC_OK)
            return slot_failed(r, f, rc);
        if (r->depth >= TC__PB_MAX_DEPTH)
            return bad_value(r, f, "nested too deeply");
        r->depth++;
        rc = read_message(r, v, sub);
        r->depth--;
        return rc;
    }
    json_value val;
    memset(&val, 0, sizeof val);
    tc_code rc = read_scalar(r, v, f, &val);
    if (rc != TC_OK)
        return rc;
    void *slot = NULL;
    rc = tc__pb_field_slot(msg, f, &slot);
    if (rc != TC_OK) {
        if (f->type == PROTOBUF_C_TYPE_STRING)
            tc__free(val.s);
        else if (f->type == PROTOBUF_C_TYPE_BYTES)
            tc__free(val.bin.data);
        return slot_failed(r, f, rc);
    }
    memcpy(slot, &val, tc__pb_value_size(f->type));
    return TC_OK;
}

/* A map key arrives as a JSON object key; convert it to the key type. */
static tc_code read_map_key(json_reader *r, const char *key, ProtobufCMessage *entry,
                            const ProtobufCFieldDescriptor *kf)
{
    json_object *k = NULL;
    if (kf->type == PROTOBUF_C_TYPE_BOOL)
        k = strcmp(key, "true") == 0 || strcmp(key, "false") == 0
                ? json_object_new_boolean(key[0] == 't')
                : NULL;
    else
        k = json_object_new_string(key);
    if (k == NULL && kf->type != PROTOBUF_C_TYPE_BOOL)
        return nomem(r);
    if (k == NULL)
        return bad_value(r, kf, "expected a boolean map key");
    tc_code rc = read_element(r, k, entry, kf);
    json_object_put(k);
    return rc;
}

static tc_code read_map(json_reader *r, json_object *obj, ProtobufCMessage *msg,
                        const ProtobufCFieldDescriptor *f)
{
    const ProtobufCMessageDescriptor *ed = f->descriptor;
    if (json_object_get_type(obj) != json_type_object)
        return bad_value(r, f, "expected an object (map)");
    struct json_object_iterator it = json_object_iter_begin(obj);
    struct json_object_iterator end = json_object_iter_end(obj);
    for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
        ProtobufCMessage *entry = NULL;
        tc_code rc = tc__pb_field_message(msg, f, &entry);
        if (rc != TC_OK)
            return slot_failed(r, f, rc);
        rc = read_map_key(r, json_object_iter_peek_name(&it), entry, &ed->fields[0]);
        json_object *val = json_object_iter_peek_value(&it);
        if (rc == TC_OK && val != NULL)
            rc = read_element(r, val, entry, &ed->fields[1]);
        if (rc != TC_OK)
            return rc;
        tc__pb_map_dedupe(msg, f);
    }
    return TC_OK;
}

static tc_code read_field(json_reader *r, json_object *v, ProtobufCMessage *msg,
                          const ProtobufCFieldDescriptor *f)
{
    if (v == NULL)
        return TC_OK; /* null: leave the field at its default */
    if (tc__pb_field_is_map(f))
        return read_map(r, v, msg, f);
    if (f->label != PROTOBUF_C_LABEL_REPEATED)
        return read_element(r, v, msg, f);
    if (json_object_get_type(v) != json_type_array)
        return bad_value(r, f, "expected an array");
    size_t n = json_object_array_length(v);
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(v, i);
        if (e == NULL)
            return bad_value(r, f, "null array element");
        tc_code rc = read_element(r, e, msg, f);
        if (rc != TC_OK)
            return rc;
    }
    return TC_OK;
}

/* lowerCamelCase form of a proto field name equals `key`. */
static bool camel_equal(const char *name, const char *key)
{
    bool upper = false;
    for (; *name != '\0'; name++) {
        if (*name == '_') {
            upper = true;
            continue;
        }
        char c = *name;
        if (upper && c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        upper = false;
        if (c != *key)
            return false;
        key++;
    }
    return *key == '\0';
}

static const ProtobufCFieldDescriptor *find_field(const ProtobufCMessageDescriptor *desc,
                                                  const char *key)
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(desc, key);
    for (unsigned i = 0; f == NULL && i < desc->n_fields; i++) {
        if (camel_equal(desc->fields[i].name, key))
            f = &desc->fields[i];
    }
    return f;
}

static tc_code read_message(json_reader *r, json_object *obj, ProtobufCMessage *msg)
{
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    if (json_object_get_type(obj) != json_type_object)
        return tc__error_set(r->err, TC_E_INVALID_ARG, "expected a JSON object for %s", desc->name);
    struct json_object_iterator it = json_object_iter_begin(obj);
    struct json_object_iterator end = json_object_iter_end(obj);
    for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
        const char *key = json_object_iter_peek_name(&it);
        const ProtobufCFieldDescriptor *f = find_field(desc, key);
        if (f == NULL)
            return tc__error_set(r->err, TC_E_INVALID_ARG, "unknown field '%.200s' in %s", key,
                                 desc->name);
        tc_code rc = read_field(r, json_object_iter_peek_value(&it), msg, f);
        if (rc != TC_OK)
            return rc;
    }
    return TC_OK;
}

static bool all_space(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
            return false;
    }
    return true;
}

/* Parse the whole of json (no trailing data) into a json-c tree. */
static tc_code parse_json(const char *json, size_t len, json_object **out, tc__error *err)
{
    if (len > INT32_MAX)
        return tc__error_set(err, TC_E_INVALID_ARG, "JSON text too large");
    json_tokener *tok = json_tokener_new_ex(TC__PB_MAX_DEPTH);
    if (tok == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory while reading JSON");
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    *out = json_tokener_parse_ex(tok, json, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (*out != NULL && jerr == json_tokener_success && used <= len &&
        all_space(json + used, len - used))
        return TC_OK;
    json_object_put(*out);
    *out = NULL;
    if (jerr == json_tokener_continue)
        return tc__error_set(err, TC_E_INVALID_ARG, "invalid JSON: unexpected end of input");
    if (jerr != json_tokener_success)
        return tc__error_set(err, TC_E_INVALID_ARG, "invalid JSON at offset %zu: %s", used,
                             json_tokener_error_desc(jerr));
    return tc__error_set(err, TC_E_INVALID_ARG, "invalid JSON: data after the top-level value");
}

tc_code tc__pb_from_json(const ProtobufCMessageDescriptor *desc, const char *json, size_t len,
                         ProtobufCMessage **out, tc__error *err)
{
    if (desc == NULL || out == NULL || (json == NULL && len > 0))
        return tc__error_set(err, TC_E_INVALID_ARG, "invalid arguments to the JSON reader");
    *out = NULL;
    json_object *root = NULL;
    ProtobufCMessage *msg = tc__pb_message_new(desc);
    if (msg == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory while reading JSON");
    tc_code rc = TC_OK;
    if (json == NULL || all_space(json, len))
        goto out;
    rc = parse_json(json, len, &root, err);
    if (rc == TC_OK) {
        json_reader r = {err, 0};
        rc = read_message(&r, root, msg);
    }
out:
    json_object_put(root);
    if (rc != TC_OK) {
        protobuf_c_message_free_unpacked(msg, tc__pb_allocator());
        return rc;
    }
    *out = msg;
    return TC_OK;
}
