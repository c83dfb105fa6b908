/* Server metadata, model metadata and repository index (HTTP.md 3, 4, 9.1). */
#include <string.h>

#include "common/alloc.h"
#include "proto/v2_json.h"
#include "proto/v2_json_int.h"

/* ---- encoding ------------------------------------------------------------------- */

static tc_code put_str(tc__buf *b, const char *s)
{
    if (s == NULL)
        s = "";
    return tc__jw_string(b, s, strlen(s), TC__JW_RAW);
}

static tc_code put_str_array(tc__buf *b, char *const *s, size_t n)
{
    tc_code rc = tc__buf_append(b, "[", 1);
    for (size_t i = 0; i < n && rc == TC_OK; i++) {
        if (i > 0)
            rc = tc__buf_append(b, ",", 1);
        if (rc == TC_OK)
            rc = put_str(b, s[i]);
    }
    if (rc == TC_OK)
        rc = tc__buf_append(b, "]", 1);
    return rc;
}

/* Undo a failed encoder's partial output. */
static tc_code rewind_on_error(tc__buf *b, size_t start, tc_code rc)
{
    if (rc != TC_OK) {
        b->len = start;
        if (b->data != NULL)
            b->data[start] = '\0';
    }
    return rc;
}

tc_code tc__v2_server_metadata_encode(const tc__server_metadata *m, tc__buf *json)
{
    if (m == NULL || json == NULL)
        return TC_E_INVALID_ARG;
    size_t start = json->len;
    tc_code rc = TC__JW_LIT(json, "{\"name\":");
    if (rc == TC_OK)
        rc = put_str(json, m->name);
    if (rc == TC_OK)
        rc = TC__JW_LIT(json, ",\"version\":");
    if (rc == TC_OK)
        rc = put_str(json, m->version);
    if (rc == TC_OK)
        rc = TC__JW_LIT(json, ",\"extensions\":");
    if (rc == TC_OK)
        rc = put_str_array(json, m->extensions, m->extension_count);
    if (rc == TC_OK)
        rc = tc__buf_append(json, "}", 1);
    return rewind_on_error(json, start, rc);
}

static tc_code put_tensor_metas(tc__buf *b, const tc__tensor_meta *t, size_t n)
{
    tc_code rc = tc__buf_append(b, "[", 1);
    for (size_t i = 0; i < n && rc == TC_OK; i++) {
        const char *dtype = tc_dtype_name(t[i].dtype);
        if (dtype == NULL)
            return TC_E_INVALID_ARG;
        rc = tc__buf_append_str(b, i > 0 ? ",{\"name\":" : "{\"name\":");
        if (rc == TC_OK)
            rc = put_str(b, t[i].name);
        if (rc == TC_OK)
            rc = TC__JW_LIT(b, ",\"datatype\":");
        if (rc == TC_OK)
            rc = put_str(b, dtype);
        if (rc == TC_OK)
            rc = TC__JW_LIT(b, ",\"shape\":");
        if (rc == TC_OK)
            rc = tc__jw_shape(b, t[i].shape, t[i].ndim);
        if (rc == TC_OK)
            rc = tc__buf_append(b, "}", 1);
    }
    if (rc == TC_OK)
        rc = tc__buf_append(b, "]", 1);
    return rc;
}

tc_code tc__v2_model_metadata_encode(const tc__model_metadata *m, tc__buf *json)
{
    if (m == NULL || json == NULL)
        return TC_E_INVALID_ARG;
    size_t start = json->len;
    tc_code rc = TC__JW_LIT(json, "{\"name\":");
    if (rc == TC_OK)
        rc = put_str(json, m->name);
    if (rc == TC_OK)
        rc = TC__JW_LIT(json, ",\"versions\":");
    if (rc == TC_OK)
        rc = put_str_array(json, m->versions, m->version_count);
    if (rc == TC_OK)
        rc = TC__JW_LIT(json, ",\"platform\":");
    if (rc == TC_OK)
        rc = put_str(json, m->platform);
    if (rc == TC_OK)
        rc = TC__JW_LIT(json, ",\"inputs\":");
    if (rc == TC_OK)
        rc = put_tensor_metas(json, m->inputs, m->input_count);
    if (rc == TC_OK)
        rc = TC__JW_LIT(json, ",\"outputs\":");
    if (rc == TC_OK)
        rc = put_tensor_metas(json, m->outputs, m->output_count);
    if (rc == TC_OK)
        rc = tc__buf_append(json, "}", 1);
    return rewind_on_error(json, start, rc);
}

static tc_code put_opt_member(tc__buf *b, const char *key_lit, const char *v)
{
    if (v == NULL || v[0] == '\0')
        return TC_OK;
    tc_code rc = tc__buf_append_str(b, key_lit);
    return rc == TC_OK ? put_str(b, v) : rc;
}

tc_code tc__v2_repo_index_encode(const tc__repo_index *idx, tc__buf *json)
{
    if (idx == NULL || json == NULL)
        return TC_E_INVALID_ARG;
    size_t start = json->len;
    tc_code rc = tc__buf_append(json, "[", 1);
    for (size_t i = 0; i < idx->count && rc == TC_OK; i++) {
        const tc__repo_entry *e = &idx->entries[i];
        rc = tc__buf_append_str(json, i > 0 ? ",{\"name\":" : "{\"name\":");
        if (rc == TC_OK)
            rc = put_str(json, e->name);
        /* Triton omits version and state for never-loaded models and an
         * empty reason always. */
        if (rc == TC_OK)
            rc = put_opt_member(json, ",\"version\":", e->version);
        if (rc == TC_OK)
            rc = put_opt_member(json, ",\"state\":", e->state);
        if (rc == TC_OK)
            rc = put_opt_member(json, ",\"reason\":", e->reason);
        if (rc == TC_OK)
            rc = tc__buf_append(json, "}", 1);
    }
    if (rc == TC_OK)
        rc = tc__buf_append(json, "]", 1);
    return rewind_on_error(json, start, rc);
}

/* ---- decoding ------------------------------------------------------------------- */

static tc_code bad(tc__error *err, const char *doc, const char *what)
{
    return tc__error_set(err, TC_E_PROTOCOL, "invalid %s: bad '%s'", doc, what);
}

static tc_code get_string(const tc__jl_value *obj, const char *key, bool required, char **out,
                          tc__error *err, const char *doc)
{
    const tc__jl_value *v = tc__jd_get(obj, key);
    if (v == NULL)
        return required ? bad(err, doc, key) : TC_OK;
    tc_code rc = tc__jd_strdup(v, out);
    if (rc == TC_E_NOMEM)
        return tc__error_set(err, rc, "out of memory");
    return rc == TC_OK ? TC_OK : bad(err, doc, key);
}

static tc_code get_str_array(const tc__jl_value *obj, const char *key, char ***out, size_t *count,
                             tc__error *err, const char *doc)
{
    const tc__jl_value *arr = tc__jd_get(obj, key);
    if (arr == NULL)
        return TC_OK;
    if (!tc__jl_is(arr, TC__JL_ARRAY))
        return bad(err, doc, key);
    size_t n = arr->len;
    *out = tc__calloc(n ? n : 1, sizeof **out);
    if (*out == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    size_t i = 0;
    for (const tc__jl_value *e = tc__jl_first(arr); e != NULL; e = tc__jl_next(arr, e), i++) {
        *count = i + 1;
        tc_code rc = tc__jd_strdup(e, &(*out)[i]);
        if (rc == TC_E_NOMEM)
            return tc__error_set(err, rc, "out of memory");
        if (rc != TC_OK)
            return bad(err, doc, key);
    }
    return TC_OK;
}

static tc__jl_doc *parse_doc(const uint8_t *body, size_t len, const char *doc, tc__error *err)
{
    tc__jl_doc *d = tc__jd_parse((const char *)body, len, 16, doc, err);
    if (d == NULL && err->code != TC_E_NOMEM)
        err->code = TC_E_PROTOCOL;
    return d;
}

tc_code tc__v2_server_metadata_decode(const uint8_t *body, size_t len, tc__server_metadata *m,
                                      tc__error *err)
{
    static const char doc[] = "server metadata";
    tc__error local;
    if (err == NULL)
        err = &local;
    if (m == NULL || (body == NULL && len > 0))
        return tc__error_set(err, TC_E_INVALID_ARG, "invalid argument");
    memset(m, 0, sizeof *m);
    tc__jl_doc *d = parse_doc(body, len, doc, err);
    if (d == NULL)
        return err->code;
    const tc__jl_value *root = tc__jl_root(d);
    tc_code rc = tc__jl_is(root, TC__JL_OBJECT) ? TC_OK : bad(err, doc, "root");
    if (rc == TC_OK)
        rc = get_string(root, "name", true, &m->name, err, doc);
    if (rc == TC_OK)
        rc = get_string(root, "version", false, &m->version, err, doc);
    if (rc == TC_OK)
        rc = get_str_array(root, "extensions", &m->extensions, &m->extension_count, err, doc);
    tc__jl_free(d);
    if (rc != TC_OK)
        tc__server_metadata_cleanup(m);
    return rc;
}

static tc_code get_tensor_metas(const tc__jl_value *obj, const char *key, tc__tensor_meta **out,
                                size_t *count, tc__error *err, const char *doc)
{
    const tc__jl_value *arr = tc__jd_get(obj, key);
    if (arr == NULL)
        return TC_OK;
    if (!tc__jl_is(arr, TC__JL_ARRAY))
        return bad(err, doc, key);
    size_t n = arr->len;
    *out = tc__calloc(n ? n : 1, sizeof **out);
    if (*out == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    size_t i = 0;
    for (const tc__jl_value *e = tc__jl_first(arr); e != NULL; e = tc__jl_next(arr, e), i++) {
        *count = i + 1;
        tc__tensor_meta *t = &(*out)[i];
        const tc__jl_value *o = tc__jd_nonnull(e);
        if (!tc__jl_is(o, TC__JL_OBJECT))
            return bad(err, doc, key);
        tc_code rc = get_string(o, "name", true, &t->name, err, doc);
        if (rc != TC_OK)
            return rc;
        const tc__jl_value *dt = tc__jd_get(o, "datatype");
        if (!tc__jl_is(dt, TC__JL_STRING))
            return bad(err, doc, "datatype");
        /* An unknown (newer) datatype stays TC_DTYPE_INVALID. */
        t->dtype = tc_dtype_from_name(dt->v.s);
        rc = tc__jd_shape(tc__jd_get(o, "shape"), true, &t->shape, &t->ndim);
        if (rc == TC_E_NOMEM)
            return tc__error_set(err, rc, "out of memory");
        if (rc != TC_OK)
            return bad(err, doc, "shape");
    }
    return TC_OK;
}

tc_code tc__v2_model_metadata_decode(const uint8_t *body, size_t len, tc__model_metadata *m,
                                     tc__error *err)
{
    static const char doc[] = "model metadata";
    tc__error local;
    if (err == NULL)
        err = &local;
    if (m == NULL || (body == NULL && len > 0))
        return tc__error_set(err, TC_E_INVALID_ARG, "invalid argument");
    memset(m, 0, sizeof *m);
    tc__jl_doc *d = parse_doc(body, len, doc, err);
    if (d == NULL)
        return err->code;
    const tc__jl_value *root = tc__jl_root(d);
    tc_code rc = tc__jl_is(root, TC__JL_OBJECT) ? TC_OK : bad(err, doc, "root");
    if (rc == TC_OK)
        rc = get_string(root, "name", true, &m->name, err, doc);
    if (rc == TC_OK)
        rc = get_str_array(root, "versions", &m->versions, &m->version_count, err, doc);
    if (rc == TC_OK)
        rc = get_string(root, "platform", false, &m->platform, err, doc);
    if (rc == TC_OK)
        rc = get_tensor_metas(root, "inputs", &m->inputs, &m->input_count, err, doc);
    if (rc == TC_OK)
        rc = get_tensor_metas(root, "outputs", &m->outputs, &m->output_count, err, doc);
    tc__jl_free(d);
    if (rc != TC_OK)
        tc__model_metadata_cleanup(m);
    return rc;
}

static tc_code get_repo_entry(const tc__jl_value *o, tc__repo_entry *e, tc__error *err,
                              const char *doc)
{
    if (!tc__jl_is(o, TC__JL_OBJECT))
        return bad(err, doc, "entry");
    tc_code rc = get_string(o, "name", true, &e->name, err, doc);
    if (rc == TC_OK)
        rc = get_string(o, "version", false, &e->version, err, doc);
    if (rc == TC_OK)
        rc = get_string(o, "state", false, &e->state, err, doc);
    if (rc == TC_OK)
        rc = get_string(o, "reason", false, &e->reason, err, doc);
    return rc;
}

tc_code tc__v2_repo_index_decode(const uint8_t *body, size_t len, tc__repo_index *idx,
                                 tc__error *err)
{
    static const char doc[] = "repository index";
    tc__error local;
    if (err == NULL)
        err = &local;
    if (idx == NULL || (body == NULL && len > 0))
        return tc__error_set(err, TC_E_INVALID_ARG, "invalid argument");
    memset(idx, 0, sizeof *idx);
    tc__jl_doc *d = parse_doc(body, len, doc, err);
    if (d == NULL)
        return err->code;
    const tc__jl_value *root = tc__jl_root(d);
    tc_code rc = TC_OK;
    if (!tc__jl_is(root, TC__JL_ARRAY)) {
        rc = bad(err, doc, "root");
        goto out;
    }
    size_t n = root->len;
    idx->entries = tc__calloc(n ? n : 1, sizeof *idx->entries);
    if (idx->entries == NULL) {
        rc = tc__error_set(err, TC_E_NOMEM, "out of memory");
        goto out;
    }
    size_t i = 0;
    for (const tc__jl_value *e = tc__jl_first(root); e != NULL && rc == TC_OK;
         e = tc__jl_next(root, e), i++) {
        idx->count = i + 1;
        rc = get_repo_entry(tc__jd_nonnull(e), &idx->entries[i], err, doc);
    }
out:
    tc__jl_free(d);
    if (rc != TC_OK)
        tc__repo_index_cleanup(idx);
    return rc;
}
