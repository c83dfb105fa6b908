/* TLS for the gRPC frontend: OpenSSL with ALPN h2, optional client
 * certificates (--grpc-use-ssl-mutual). Non-blocking, driven by the I/O
 * thread. */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <string.h>

#include "frontend/grpc/grpc_internal.h"

static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)ssl;
    (void)arg;
    for (unsigned int i = 0; i < inlen;) {
        unsigned int n = in[i];
        if (i + 1 + n > inlen)
            break;
        if (n == 2 && memcmp(in + i + 1, "h2", 2) == 0) {
            *out = in + i + 1;
            *outlen = 2;
            return SSL_TLSEXT_ERR_OK;
        }
        i += 1 + n;
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}

static tc_code ssl_fail(SSL_CTX *ctx, tc__error *err, const char *what, const char *file)
{
    char buf[256];
    ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
    SSL_CTX_free(ctx);
    return tc__error_set(err, TC_E_INVALID_ARG, "gRPC TLS: %s '%s': %s", what,
                         file != NULL ? file : "", buf);
}

tc_code tc__grpc_tls_ctx_new(const tc__grpc_options *o, void **out, tc__error *err)
{
    *out = NULL;
    if (o->server_cert == NULL || o->server_key == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "--grpc-use-ssl needs --grpc-server-cert and --grpc-server-key");
    if (o->use_ssl_mutual && o->root_cert == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG, "--grpc-use-ssl-mutual needs --grpc-root-cert");
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        return tc__error_set(err, TC_E_NOMEM, "gRPC TLS: cannot create a context");
    (void)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    (void)SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    if (SSL_CTX_use_certificate_chain_file(ctx, o->server_cert) != 1)
        return ssl_fail(ctx, err, "cannot load certificate", o->server_cert);
    if (SSL_CTX_use_PrivateKey_file(ctx, o->server_key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1)
        return ssl_fail(ctx, err, "cannot load private key", o->server_key);
    if (o->root_cert != NULL && SSL_CTX_load_verify_locations(ctx, o->root_cert, NULL) != 1)
        return ssl_fail(ctx, err, "cannot load root certificate", o->root_cert);
    if (o->use_ssl_mutual)
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, NULL);
    *out = ctx;
    return TC_OK;
}

void tc__grpc_tls_ctx_free(void *ctx)
{
    SSL_CTX_free(ctx);
}

tc_code tc__grpc_tls_conn_new(void *ctx, int fd, void **out)
{
    SSL *ssl = SSL_new(ctx);
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1) {
        SSL_free(ssl);
        return TC_E_NOMEM;
    }
    SSL_set_accept_state(ssl);
    (void)SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    *out = ssl;
    return TC_OK;
}

void tc__grpc_tls_conn_free(void *ssl)
{
    if (ssl == NULL)
        return;
    (void)SSL_shutdown(ssl);
    SSL_free(ssl);
}

int tc__grpc_tls_handshake(void *ssl)
{
    ERR_clear_error();
    int rv = SSL_do_handshake(ssl);
    if (rv == 1) {
        const unsigned char *proto = NULL;
        unsigned int len = 0;
        SSL_get0_alpn_selected(ssl, &proto, &len);
        /* No ALPN at all is tolerated (some test clients); anything but h2 is not. */
        return len == 0 || (len == 2 && memcmp(proto, "h2", 2) == 0) ? 1 : -1;
    }
    int e = SSL_get_error(ssl, rv);
    return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;
}

long tc__grpc_tls_read(void *ssl, uint8_t *buf, size_t len, bool *want_write)
{
    ERR_clear_error();
    int n = SSL_read(ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
    if (n > 0)
        return n;
    int e = SSL_get_error(ssl, n);
    *want_write = e == SSL_ERROR_WANT_WRITE;
    return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;
}

long tc__grpc_tls_write(void *ssl, const uint8_t *buf, size_t len)
{
    ERR_clear_error();
    int n = SSL_write(ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
    if (n > 0)
        return n;
    int e = SSL_get_error(ssl, n);
    return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;
}
