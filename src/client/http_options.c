/* tc_http_options: the HTTP client's settings. */
#include "client/http_internal.h"

#include <string.h>

#include "common/alloc.h"

#define MAX_CONNECTIONS_LIMIT 1024u

static void set_defaults(struct tc_http_options *o)
{
    memset(o, 0, sizeof *o);
    o->max_connections = 4;
    o->verify_peer = true;
    o->verify_host = true;
}

tc_code tc_http_options_new(tc_http_options **out)
{
    if (out == NULL)
        return TC_E_INVALID_ARG;
    *out = tc__malloc(sizeof **out);
    if (*out == NULL)
        return TC_E_NOMEM;
    set_defaults(*out);
    return TC_OK;
}

void tc__http_options_cleanup(struct tc_http_options *o)
{
    tc__free(o->ca_file);
    tc__free(o->cert_file);
    tc__free(o->key_file);
    tc__hlist_cleanup(&o->headers);
    set_defaults(o);
}

void tc_http_options_free(tc_http_options *opts)
{
    if (opts == NULL)
        return;
    tc__http_options_cleanup(opts);
    tc__free(opts);
}

/* Copy `s` into *slot (NULL clears). */
static tc_code set_str(char **slot, const char *s)
{
    char *copy = NULL;
    if (s != NULL) {
        copy = tc__strdup(s);
        if (copy == NULL)
            return TC_E_NOMEM;
    }
    tc__free(*slot);
    *slot = copy;
    return TC_OK;
}

tc_code tc__http_options_copy(struct tc_http_options *dst, const struct tc_http_options *src)
{
    set_defaults(dst);
    if (src == NULL)
        return TC_OK;
    *dst = *src;
    dst->ca_file = NULL;
    dst->cert_file = NULL;
    dst->key_file = NULL;
    memset(&dst->headers, 0, sizeof dst->headers);
    tc_code rc = set_str(&dst->ca_file, src->ca_file);
    if (rc == TC_OK)
        rc = set_str(&dst->cert_file, src->cert_file);
    if (rc == TC_OK)
        rc = set_str(&dst->key_file, src->key_file);
    if (rc == TC_OK)
        rc = tc__hlist_copy(&dst->headers, &src->headers);
    if (rc != TC_OK)
        tc__http_options_cleanup(dst);
    return rc;
}

tc_code tc_http_options_set_verbose(tc_http_options *opts, bool verbose)
{
    if (opts == NULL)
        return TC_E_INVALID_ARG;
    opts->verbose = verbose;
    return TC_OK;
}

tc_code tc_http_options_set_max_connections(tc_http_options *opts, uint32_t count)
{
    if (opts == NULL || count == 0 || count > MAX_CONNECTIONS_LIMIT)
        return TC_E_INVALID_ARG;
    opts->max_connections = count;
    return TC_OK;
}

tc_code tc_http_options_set_connect_timeout_us(tc_http_options *opts, uint64_t timeout_us)
{
    if (opts == NULL)
        return TC_E_INVALID_ARG;
    opts->connect_timeout_us = timeout_us;
    return TC_OK;
}

tc_code tc_http_options_set_network_timeout_us(tc_http_options *opts, uint64_t timeout_us)
{
    if (opts == NULL)
        return TC_E_INVALID_ARG;
    opts->network_timeout_us = timeout_us;
    return TC_OK;
}

static bool valid_compression(tc_compression c)
{
    return c == TC_COMPRESSION_NONE || c == TC_COMPRESSION_GZIP || c == TC_COMPRESSION_DEFLATE;
}

tc_code tc_http_options_set_request_compression(tc_http_options *opts, tc_compression algorithm)
{
    if (opts == NULL || !valid_compression(algorithm))
        return TC_E_INVALID_ARG;
    opts->request_compression = algorithm;
    return TC_OK;
}

tc_code tc_http_options_set_response_compression(tc_http_options *opts, tc_compression algorithm)
{
    if (opts == NULL || !valid_compression(algorithm))
        return TC_E_INVALID_ARG;
    opts->response_compression = algorithm;
    return TC_OK;
}

tc_code tc_http_options_set_verify_peer(tc_http_options *opts, bool verify)
{
    if (opts == NULL)
        return TC_E_INVALID_ARG;
    opts->verify_peer = verify;
    return TC_OK;
}

tc_code tc_http_options_set_verify_host(tc_http_options *opts, bool verify)
{
    if (opts == NULL)
        return TC_E_INVALID_ARG;
    opts->verify_host = verify;
    return TC_OK;
}

tc_code tc_http_options_set_ca_file(tc_http_options *opts, const char *path)
{
    if (opts == NULL)
        return TC_E_INVALID_ARG;
    return set_str(&opts->ca_file, path);
}

tc_code tc_http_options_set_client_cert(tc_http_options *opts, const char *cert_path,
                                        const char *key_path)
{
    if (opts == NULL)
        return TC_E_INVALID_ARG;
    char *cert = NULL;
    tc_code rc = set_str(&cert, cert_path);
    if (rc != TC_OK)
        return rc;
    char *key = NULL;
    rc = set_str(&key, key_path);
    if (rc != TC_OK) {
        tc__free(cert);
        return rc;
    }
    tc__free(opts->cert_file);
    tc__free(opts->key_file);
    opts->cert_file = cert;
    opts->key_file = key;
    return TC_OK;
}

tc_code tc_http_options_add_header(tc_http_options *opts, const char *name, const char *value)
{
    if (opts == NULL)
        return TC_E_INVALID_ARG;
    return tc__hlist_add(&opts->headers, name, value);
}

tc_code tc_http_options_set_retry(tc_http_options *opts, uint32_t max_attempts,
                                  uint64_t initial_backoff_us, uint64_t max_backoff_us)
{
    if (opts == NULL)
        return TC_E_INVALID_ARG;
    return tc__retry_cfg_set(&opts->retry, max_attempts, initial_backoff_us, max_backoff_us);
}
