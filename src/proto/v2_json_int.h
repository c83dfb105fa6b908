/* Private helpers of the v2 JSON codec (v2_json_*.c): a hand-written JSON
 * writer into tc__buf for the encoders, and readers over the json_lite DOM
 * shared by the decoders. Not for use outside src/proto. */
#ifndef TC_SRC_PROTO_V2_JSON_INT_H
#define TC_SRC_PROTO_V2_JSON_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "common/buf.h"
#include "common/error.h"
#include "proto/json_lite.h"
#include "proto/v2_types.h"

/* ---- writer ------------------------------------------------------------- */

/* How strings are escaped. Both escape '"', '\\' and control characters
 * (\b \t \n \f \r, else \u00XX with upper-case hex, as rapidjson does).
 * ASCII additionally writes every non-ASCII code point as \uXXXX (surrogate
 * pairs above U+FFFF) and fails on invalid UTF-8, as the upstream client's
 * ensure_ascii output does. RAW copies bytes >= 0x80 unchanged. */
typedef enum tc__jw_mode { TC__JW_ASCII, TC__JW_RAW } tc__jw_mode;

/* Append `s` (`len` bytes) as a quoted JSON string. TC_E_INVALID_ARG for
 * invalid UTF-8 in ASCII mode, TC_E_NOMEM. */
tc_code tc__jw_string(tc__buf *b, const char *s, size_t len, tc__jw_mode mode);
/* Append a NUL-terminated string as a quoted, ASCII-escaped JSON string. */
tc_code tc__jw_cstr(tc__buf *b, const char *s);
/* Append raw text (keys, punctuation). */
tc_code tc__jw_raw(tc__buf *b, const char *text, size_t len);
#define TC__JW_LIT(b, lit) tc__jw_raw((b), (lit), sizeof(lit) - 1)
tc_code tc__jw_i64(tc__buf *b, int64_t v);
tc_code tc__jw_u64(tc__buf *b, uint64_t v);
/* Shortest decimal that reads back as the same double, laid out as rapidjson
 * does ("1.0", "3.299999952316284", "1e30", "1.5e-7"); NaN and infinities as
 * NaN, Infinity, -Infinity (not JSON, but json-c and Python read them). */
tc_code tc__jw_double(tc__buf *b, double v);
/* "[d0,d1,...]" for a shape. */
tc_code tc__jw_shape(tc__buf *b, const int64_t *shape, size_t ndim);
/* One parameter value. */
tc_code tc__jw_param_value(tc__buf *b, const tc__param *p);
/* Flat JSON array of the elements of raw tensor data. `mode` applies to
 * BYTES elements. Fails (TC_E_INVALID_ARG, message in err) for FP16/BF16,
 * a byte size that is not a multiple of the element size, or a truncated
 * BYTES buffer. `what` ("receiving"/"sending") and `name` word messages. */
tc_code tc__jw_tensor_data(tc__buf *b, tc_dtype dtype, const uint8_t *data, size_t byte_size,
                           tc__jw_mode mode, const char *name, tc__error *err);

/* ---- json-c reader ------------------------------------------------------ */

/* The json-c based reader the v2 decoders used before json_lite; kept for
 * the JSON that is off the hot path (v2_pb_json.c: trace and log settings).
 * Parse `len` bytes of JSON text; the whole text must be one value plus
 * whitespace. Integer literals outside [INT64_MIN, UINT64_MAX] are rejected
 * (json-c would clamp them silently). `depth` bounds nesting. On failure
 * returns NULL with TC_E_INVALID_ARG and a message prefixed by `what`. */
json_object *tc__jr_parse(const char *text, size_t len, size_t depth, const char *what,
                          tc__error *err);
/* Exact integer reads. False when `o` is not a JSON integer in range. */
bool tc__jr_u64(json_object *o, uint64_t *out);
bool tc__jr_i64(json_object *o, int64_t *out);

/* ---- reader (json_lite DOM) ------------------------------------------------ */

/* Parse `len` bytes of JSON text; the whole text must be one value plus
 * whitespace. Integer literals outside [INT64_MIN, UINT64_MAX] are rejected
 * (json-c, the previous reader, would clamp them). NaN, Infinity and
 * -Infinity are accepted, since the writer emits them. `depth` bounds
 * nesting as json-c's depth argument did (see tc__jl_parse). On failure
 * returns NULL with TC_E_INVALID_ARG (TC_E_NOMEM) and a message prefixed by
 * `what`. Free the result with tc__jl_free(). */
tc__jl_doc *tc__jd_parse(const char *text, size_t len, size_t depth, const char *what,
                         tc__error *err);

/* Member `key` of `o` as json-c's json_object_object_get() saw it: NULL
 * when absent, when the value is null, or when `o` is not an object. */
const tc__jl_value *tc__jd_get(const tc__jl_value *o, const char *key);
/* A member's value with an explicit null mapped to NULL, as json-c did. */
const tc__jl_value *tc__jd_nonnull(const tc__jl_value *v);

/* A JSON string without embedded NUL, duplicated into *out (NULL on OOM:
 * returns TC_E_NOMEM; TC_E_INVALID_ARG when not a string). */
tc_code tc__jd_strdup(const tc__jl_value *o, char **out);
/* Shape array: non-negative integers only unless allow_negative. */
tc_code tc__jd_shape(const tc__jl_value *o, bool allow_negative, int64_t **shape, size_t *ndim);
/* Add a custom parameter from a JSON scalar (string, int, bool, double).
 * TC_E_INVALID_ARG for arrays, objects and null. */
tc_code tc__jd_param(tc__params *p, const char *key, const tc__jl_value *v);

/* Convert JSON `data` (flat or nested arrays, at most max_depth deep) into
 * little-endian raw bytes in t->owned / t->data / t->byte_size, checking the
 * element count against t's shape and each value against t->dtype.
 * `max_size` bounds the converted size (0 = no bound). Messages name the
 * tensor. TC_E_INVALID_ARG or TC_E_NOMEM. */
tc_code tc__jd_tensor_data(const tc__jl_value *data, tc__tensor *t, size_t max_depth,
                           size_t max_size, tc__error *err);
/* As tc__jd_tensor_data, but a lone scalar (not an object) is one element. */
tc_code tc__jd_tensor_value(const tc__jl_value *data, tc__tensor *t, size_t max_depth,
                            size_t max_size, tc__error *err);

#endif /* TC_SRC_PROTO_V2_JSON_INT_H */
