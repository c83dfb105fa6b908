/* tc_grpc_options: defaults, typed setters, the mapping of standard gRPC
 * channel argument names onto them, and the request settings only gRPC
 * honours. */
#include "client/grpc_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/multi_client.h"
#include "client/request_internal.h"
#include "common/alloc.h"

/* tritonclient's keepalive default: INT32_MAX ms, which means "never". */
#define KEEPALIVE_OFF_MS ((uint64_t)INT32_MAX)
#define US_PER_MS 1000u

static void set_defaults(struct tc_grpc_options *o)
{
    memset(o, 0, sizeof *o);
    o->keepalive_time_us = 0;
    o->keepalive_timeout_us = 20000u * US_PER_MS;
    o->keepalive_permit_without_calls = false;
    o->max_pings_without_data = 2;
    o->max_send_message_size = (size_t)INT32_MAX;
    o->max_receive_message_size = (size_t)INT32_MAX;
    o->compression = TC_COMPRESSION_NONE;
    o->verify_peer = true;
}

tc_code tc_grpc_options_new(tc_grpc_options **out)
{
    if (out == NULL)
        return TC_E_INVALID_ARG;
    *out = tc__calloc(1, sizeof **out);
    if (*out == NULL)
        return TC_E_NOMEM;
    set_defaults(*out);
    return TC_OK;
}

void tc__grpc_options_cleanup(struct tc_grpc_options *o)
{
    if (o == NULL)
        return;
    tc__free(o->root_certs);
    tc__free(o->cert_file);
    tc__free(o->key_file);
    tc__free(o->user_agent_prefix);
    tc__free(o->user_agent_suffix);
    tc__free(o->tls_server_name);
    tc__free(o->authority);
    tc__hlist_cleanup(&o->headers);
    memset(o, 0, sizeof *o);
}

void tc_grpc_options_free(tc_grpc_options *opts)
{
    if (opts == NULL)
        return;
    tc__grpc_options_cleanup(opts);
    tc__free(opts);
}

/* *dst = copy of src (NULL stays NULL). */
static tc_code dup_opt(char **dst, const char *src)
{
    *dst = NULL;
    if (src == NULL)
        return TC_OK;
    *dst = tc__strdup(src);
    return *dst == NULL ? TC_E_NOMEM : TC_OK;
}

tc_code tc__grpc_options_copy(struct tc_grpc_options *dst, const struct tc_grpc_options *src)
{
    set_defaults(dst);
    if (src == NULL)
        return TC_OK;
    *dst = *src;
    dst->headers.items = NULL;
    dst->headers.count = 0;
    char **strs[] = {&dst->root_certs,        &dst->cert_file,         &dst->key_file,
                     &dst->user_agent_prefix, &dst->user_agent_suffix, &dst->tls_server_name,
                     &dst->authority};
    const char *srcs[] = {src->root_certs,        src->cert_file,         src->key_file,
                          src->user_agent_prefix, src->user_agent_suffix, src->tls_server_name,
                          src->authority};
    tc_code rc = TC_OK;
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        *strs[i] = NULL;
    for (size_t i = 0; i < sizeof strs / sizeof strs[0] && rc == TC_OK; i++)
        rc = dup_opt(strs[i], srcs[i]);
    if (rc == TC_OK)
        rc = tc__hlist_copy(&dst->headers, &src->headers);
    if (rc != TC_OK)
        tc__grpc_options_cleanup(dst);
    return rc;
}

tc__grpc_encoding tc__grpc_encoding_of(tc_compression c)
{
    switch (c) {
    case TC_COMPRESSION_GZIP:
        return TC__GRPC_ENC_GZIP;
    case TC_COMPRESSION_DEFLATE:
        return TC__GRPC_ENC_DEFLATE;
    default:
        return TC__GRPC_ENC_IDENTITY;
    }
}

static bool valid_compression(tc_compression c)
{
    return c == TC_COMPRESSION_NONE || c == TC_COMPRESSION_GZIP || c == TC_COMPRESSION_DEFLATE;
}

tc_code tc_grpc_options_set_verbose(tc_grpc_options *opts, bool verbose)
{
    if (opts == NULL)
        return TC_E_INVALID_ARG;
    opts->verbose = verbose;
    return TC_OK;
}

tc_code tc_grpc_options_set_keepalive(tc_grpc_options *opts, uint64_t time_us, uint64_t timeout_us,
                                      bool permit_without_calls, uint32_t max_pings_without_data)
{
    if (opts == NULL || timeout_us == 0)
        return TC_E_INVALID_ARG;
    opts->keepalive_time_us = time_us >= KEEPALIVE_OFF_MS * US_PER_MS ? 0 : time_us;
    opts->keepalive_timeout_us = timeout_us;
    opts->keepalive_permit_without_calls = permit_without_calls;
    opts->max_pings_without_data = max_pings_without_data;
    return TC_OK;
}

static tc_code set_size(size_t *slot, size_t byte_size)
{
    if (byte_size == 0 || byte_size > (size_t)INT32_MAX)
        return TC_E_INVALID_ARG;
    *slot = byte_size;
    return TC_OK;
}

tc_code tc_grpc_options_set_max_send_message_size(tc_grpc_options *opts, size_t byte_size)
{
    if (opts == NULL)
        return TC_E_INVALID_ARG;
    return set_size(&opts->max_send_message_size, byte_size);
}

tc_code tc_grpc_options_set_max_receive_message_size(tc_grpc_options *opts, size_t byte_size)
{
    if (opts == NULL)
        return TC_E_INVALID_ARG;
    return set_size(&opts->max_receive_message_size, byte_size);
}

tc_code tc_grpc_options_set_compression(tc_grpc_options *opts, tc_compression algorithm)
{
    if (opts == NULL || !valid_compression(algorithm))
        return TC_E_INVALID_ARG;
    opts->compression = algorithm;
    return TC_OK;
}

tc_code tc_grpc_options_set_connect_timeout_us(tc_grpc_options *opts, uint64_t timeout_us)
{
    if (opts == NULL)
        return TC_E_INVALID_ARG;
    opts->connect_timeout_us = timeout_us;
    return TC_OK;
}

tc_code tc_grpc_options_set_network_timeout_us(tc_grpc_options *opts, uint64_t timeout_us)
{
    if (opts == NULL)
        return TC_E_INVALID_ARG;
    opts->network_timeout_us = timeout_us;
    return TC_OK;
}

tc_code tc_grpc_options_set_tls(tc_grpc_options *opts, bool use_tls)
{
    if (opts == NULL)
        return TC_E_INVALID_ARG;
    opts->use_tls = use_tls;
    return TC_OK;
}

static tc_code replace_opt(char **slot, const char *value)
{
    char *copy = NULL;
    if (dup_opt(&copy, value) != TC_OK)
        return TC_E_NOMEM;
    tc__free(*slot);
    *slot = copy;
    return TC_OK;
}

tc_code tc_grpc_options_set_root_certificates(tc_grpc_options *opts, const char *path)
{
    if (opts == NULL)
        return TC_E_INVALID_ARG;
    return replace_opt(&opts->root_certs, path);
}

tc_code tc_grpc_options_set_client_cert(tc_grpc_options *opts, const char *cert_path,
                                        const char *key_path)
{
    if (opts == NULL || (cert_path == NULL) != (key_path == NULL))
        return TC_E_INVALID_ARG;
    char *cert = NULL;
    char *key = NULL;
    if (dup_opt(&cert, cert_path) != TC_OK || dup_opt(&key, key_path) != TC_OK) {
        tc__free(cert);
        return TC_E_NOMEM;
    }
    tc__free(opts->cert_file);
    tc__free(opts->key_file);
    opts->cert_file = cert;
    opts->key_file = key;
    return TC_OK;
}

tc_code tc_grpc_options_set_verify_peer(tc_grpc_options *opts, bool verify)
{
    if (opts == NULL)
        return TC_E_INVALID_ARG;
    opts->verify_peer = verify;
    return TC_OK;
}

tc_code tc_grpc_options_add_header(tc_grpc_options *opts, const char *name, const char *value)
{
    if (opts == NULL)
        return TC_E_INVALID_ARG;
    return tc__hlist_add(&opts->headers, name, value);
}

/* ---- channel arguments ------------------------------------------------------ */

static tc_code ms_arg(uint64_t *slot_us, int64_t ms)
{
    if (ms < 0)
        return TC_E_INVALID_ARG;
    *slot_us = (uint64_t)ms * US_PER_MS;
    return TC_OK;
}

static tc_code message_length_arg(size_t *slot, int64_t value)
{
    if (value == -1)
        value = INT32_MAX; /* gRPC's "unlimited" */
    if (value <= 0 || value > INT32_MAX)
        return TC_E_INVALID_ARG;
    *slot = (size_t)value;
    return TC_OK;
}

static tc_code keepalive_time_arg(tc_grpc_options *o, int64_t ms)
{
    if (ms <= 0)
        return TC_E_INVALID_ARG;
    o->keepalive_time_us = (uint64_t)ms >= KEEPALIVE_OFF_MS ? 0 : (uint64_t)ms * US_PER_MS;
    return TC_OK;
}

static tc_code compression_arg(tc_grpc_options *o, int64_t value)
{
    /* gRPC's grpc_compression_algorithm: 0 none, 1 deflate, 2 gzip. */
    static const tc_compression map[] = {TC_COMPRESSION_NONE, TC_COMPRESSION_DEFLATE,
                                         TC_COMPRESSION_GZIP};
    if (value < 0 || value > 2)
        return TC_E_INVALID_ARG;
    o->compression = map[value];
    return TC_OK;
}

static tc_code positive_arg(int64_t value)
{
    return value > 0 && value <= INT32_MAX ? TC_OK : TC_E_INVALID_ARG;
}

tc_code tc_grpc_options_set_channel_arg_int(tc_grpc_options *opts, const char *name,
                                            int64_t value)
{
    if (opts == NULL || name == NULL)
        return TC_E_INVALID_ARG;
    if (strcmp(name, "grpc.keepalive_time_ms") == 0)
        return keepalive_time_arg(opts, value);
    if (strcmp(name, "grpc.keepalive_timeout_ms") == 0)
        return value <= 0 ? TC_E_INVALID_ARG : ms_arg(&opts->keepalive_timeout_us, value);
    if (strcmp(name, "grpc.keepalive_permit_without_calls") == 0) {
        if (value != 0 && value != 1)
            return TC_E_INVALID_ARG;
        opts->keepalive_permit_without_calls = value == 1;
        return TC_OK;
    }
    if (strcmp(name, "grpc.http2.max_pings_without_data") == 0) {
        if (value < 0 || value > (int64_t)UINT32_MAX)
            return TC_E_INVALID_ARG;
        opts->max_pings_without_data = (uint32_t)value;
        return TC_OK;
    }
    if (strcmp(name, "grpc.max_send_message_length") == 0)
        return message_length_arg(&opts->max_send_message_size, value);
    if (strcmp(name, "grpc.max_receive_message_length") == 0)
        return message_length_arg(&opts->max_receive_message_size, value);
    if (strcmp(name, "grpc.default_compression_algorithm") == 0)
        return compression_arg(opts, value);
    if (strcmp(name, "grpc.enable_http_proxy") == 0)
        return value == 0 || value == 1 ? TC_OK : TC_E_INVALID_ARG;
    if (strcmp(name, "grpc.max_metadata_size") == 0 || strcmp(name, "grpc.http2.max_frame_size") == 0)
        return positive_arg(value);
    return TC_E_NOT_SUPPORTED;
}

tc_code tc_grpc_options_set_channel_arg_str(tc_grpc_options *opts, const char *name,
                                            const char *value)
{
    if (opts == NULL || name == NULL || value == NULL)
        return TC_E_INVALID_ARG;
    if (strcmp(name, "grpc.primary_user_agent") == 0)
        return replace_opt(&opts->user_agent_prefix, value);
    if (strcmp(name, "grpc.secondary_user_agent") == 0)
        return replace_opt(&opts->user_agent_suffix, value);
    if (strcmp(name, "grpc.ssl_target_name_override") == 0)
        return replace_opt(&opts->tls_server_name, value);
    if (strcmp(name, "grpc.default_authority") == 0)
        return replace_opt(&opts->authority, value);
    /* An integer argument written as text. */
    errno = 0;
    char *end = NULL;
    long long v = strtoll(value, &end, 10);
    bool number = value[0] != '\0' && end != NULL && *end == '\0' && errno == 0;
    tc_code rc = tc_grpc_options_set_channel_arg_int(opts, name, number ? (int64_t)v : 0);
    if (rc == TC_E_NOT_SUPPORTED || number)
        return rc;
    return TC_E_INVALID_ARG;
}

/* ---- request settings ------------------------------------------------------------ */

tc_code tc_request_set_grpc_compression(tc_request *req, tc_compression algorithm)
{
    if (req == NULL || !valid_compression(algorithm))
        return TC_E_INVALID_ARG;
    req->has_grpc_compression = true;
    req->grpc_compression = algorithm;
    return TC_OK;
}

tc_code tc_request_set_typed_contents(tc_request *req, bool typed)
{
    if (req == NULL)
        return TC_E_INVALID_ARG;
    req->typed_contents = typed;
    return TC_OK;
}

int tc__grpc_request_compression(const tc_request *req)
{
    return req->has_grpc_compression ? (int)req->grpc_compression : -1;
}

tc_code tc_grpc_options_set_retry(tc_grpc_options *opts, uint32_t max_attempts,
                                  uint64_t initial_backoff_us, uint64_t max_backoff_us)
{
    if (opts == NULL)
        return TC_E_INVALID_ARG;
    return tc__retry_cfg_set(&opts->retry, max_attempts, initial_backoff_us, max_backoff_us);
}

/* ---- resilient clients (multi_client.c) --------------------------------------------- */

/* The plain client of one endpoint: the options without the retry policy,
 * and the I/O thread started at once, so that sync calls, probes and async
 * resends from several threads all go through it. */
static tc_code make_endpoint(tc_client **out, const char *url, const void *opts)
{
    struct tc_grpc_options o;
    tc_code rc = tc__grpc_options_copy(&o, opts);
    if (rc != TC_OK)
        return rc;
    o.retry.max_attempts = 0;
    rc = tc_grpc_client_new(out, url, &o);
    tc__grpc_options_cleanup(&o);
    if (rc != TC_OK)
        return rc;
    tc__error err;
    rc = tc__gconn_start_thread(((tc__grpc_client *)*out)->conn, &err);
    if (rc != TC_OK) {
        (void)tc_client_free(*out);
        *out = NULL;
    }
    return rc;
}

tc_code tc_grpc_multi_client_new(tc_client **out, const char *const *urls, size_t url_count,
                                 const tc_grpc_options *opts)
{
    tc__multi_cfg cfg = {make_endpoint, opts, {0, 0, 0}, 0};
    if (opts != NULL) {
        cfg.retry = opts->retry;
        cfg.network_timeout_us = opts->network_timeout_us;
    }
    return tc__multi_client_new(out, urls, url_count, &cfg);
}
