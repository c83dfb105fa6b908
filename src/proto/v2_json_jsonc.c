/* The json-c based reader kept for JSON off the hot path (see
 * v2_json_int.h); the v2 decoders read through json_lite instead. */
#include <limits.h>
#include <string.h>

#include "proto/v2_json_int.h"

/* True when the digit run s[0..n) (no sign, no leading zeros) is greater
 * than the decimal `limit`. */
static bool digits_exceed(const char *s, size_t n, const char *limit)
{
    size_t ln = strlen(limit);
    if (n != ln)
        return n > ln;
    return memcmp(s, limit, n) > 0;
}

/* Scan JSON text for integer literals json-c would clamp: below INT64_MIN
 * or above UINT64_MAX. Returns the offset of the first one or SIZE_MAX. */
static size_t find_int_overflow(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        char c = s[i];
        if (c == '"') {
            for (i++; i < len && s[i] != '"'; i++) {
                if (s[i] == '\\')
                    i++;
            }
            i++;
            continue;
        }
        if (c != '-' && (c < '0' || c > '9')) {
            i++;
            continue;
        }
        size_t start = i;
        bool neg = c == '-';
        if (neg)
            i++;
        while (i < len && s[i] == '0')
            i++;
        size_t d0 = i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        bool is_int = !(i < len && (s[i] == '.' || s[i] == 'e' || s[i] == 'E'));
        const char *limit = neg ? "9223372036854775808" : "18446744073709551615";
        if (is_int && digits_exceed(s + d0, i - d0, limit))
            return start;
        while (i < len && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == 'e' ||
                           s[i] == 'E' || s[i] == '+' || s[i] == '-'))
            i++;
    }
    return SIZE_MAX;
}

static bool is_json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

json_object *tc__jr_parse(const char *text, size_t len, size_t depth, const char *what,
                          tc__error *err)
{
    if (len > INT_MAX || depth > INT_MAX) {
        tc__error_set(err, TC_E_INVALID_ARG, "failed to parse the %s: too large", what);
        return NULL;
    }
    size_t bad = find_int_overflow(text, len);
    if (bad != SIZE_MAX) {
        tc__error_set(err, TC_E_INVALID_ARG, "failed to parse the %s: integer out of range at %zu",
                      what, bad);
        return NULL;
    }
    struct json_tokener *tok = json_tokener_new_ex((int)depth);
    if (tok == NULL) {
        tc__error_set(err, TC_E_NOMEM, "out of memory");
        return NULL;
    }
    json_object *root = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (root == NULL || jerr != json_tokener_success) {
        const char *why = jerr == json_tokener_continue ? "unexpected end of input"
                                                        : json_tokener_error_desc(jerr);
        tc__error_set(err, TC_E_INVALID_ARG, "failed to parse the %s: %s at %zu", what, why, end);
        json_object_put(root);
        return NULL;
    }
    while (end < len && is_json_space(text[end]))
        end++;
    if (end < len) {
        tc__error_set(err, TC_E_INVALID_ARG,
                      "failed to parse the %s: the document root must not be followed by "
                      "other values at %zu",
                      what, end);
        json_object_put(root);
        return NULL;
    }
    return root;
}

bool tc__jr_u64(json_object *o, uint64_t *out)
{
    if (!json_object_is_type(o, json_type_int) || json_object_get_int64(o) < 0)
        return false;
    *out = json_object_get_uint64(o);
    return true;
}

bool tc__jr_i64(json_object *o, int64_t *out)
{
    if (!json_object_is_type(o, json_type_int))
        return false;
    int64_t v = json_object_get_int64(o);
    if (v == INT64_MAX && json_object_get_uint64(o) > (uint64_t)INT64_MAX)
        return false;
    *out = v;
    return true;
}
