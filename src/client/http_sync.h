/* A lean HTTP/1.1 transport for the sync calls of plain http:// clients.
 *
 * One keep-alive TCP connection per client (TCP_NODELAY, blocking socket,
 * poll-based deadlines). A request goes out in one sendmsg: the head built
 * here, then the body pieces of the transfer straight from its iovec list.
 * The response is parsed here: Content-Length, chunked, gzip/deflate,
 * Inference-Header-Content-Length, Connection: close. A dead keep-alive
 * connection (reset on send, or closed before any response byte) is
 * reopened once and the request resent; nothing is resent once response
 * bytes have arrived.
 *
 * libcurl stays for async calls, https, proxies from the environment and
 * verbose logging: tc__hsync_new() says when this transport cannot serve. */
#ifndef TC_SRC_CLIENT_HTTP_SYNC_H
#define TC_SRC_CLIENT_HTTP_SYNC_H

#include "client/http_internal.h"

typedef struct tc__hsync tc__hsync;

/* Prepare the transport for `base_url` ("http://host[:port][/prefix]", as
 * normalized by the client). No connection is made yet. Returns
 * TC_E_NOT_SUPPORTED when the URL or the options need libcurl (https, user
 * info in the URL, a proxy variable in the environment, verbose logging). */
tc_code tc__hsync_new(tc__hsync **out, const char *base_url, const struct tc_http_options *o);
/* Close the connection and free. NULL does nothing. */
void tc__hsync_free(tc__hsync *s);

/* Send `x` (x->url, which starts with the base URL; x->headers; x->post with
 * x->iov or x->body; x->accept_encoding; x->timeout_us, 0 = none) and read
 * the answer: body (decoded) into x->resp, Inference-Header-Content-Length
 * into x->header_len, HTTP status into *status. TC_OK when an HTTP answer
 * arrived, whatever its status; otherwise TC_E_TIMEOUT, TC_E_TRANSPORT,
 * TC_E_PROTOCOL or TC_E_NOMEM with the details in `err`. */
tc_code tc__hsync_perform(tc__hsync *s, tc__xfer *x, long *status, tc__error *err);

#endif /* TC_SRC_CLIENT_HTTP_SYNC_H */
