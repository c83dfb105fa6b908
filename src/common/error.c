#include "error.h"

#include <stdarg.h>
#include <stdio.h>

tc_code tc__error_set(tc__error *err, tc_code code, const char *fmt, ...)
{
    if (err == NULL)
        return code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        err->msg[0] = '\0';
    return code;
}

void tc__error_clear(tc__error *err)
{
    if (err == NULL)
        return;
    err->code = TC_OK;
    err->msg[0] = '\0';
}

const char *tc_code_name(tc_code code)
{
    switch (code) {
    case TC_OK:
        return "TC_OK";
    case TC_E_INVALID_ARG:
        return "TC_E_INVALID_ARG";
    case TC_E_NOMEM:
        return "TC_E_NOMEM";
    case TC_E_NOT_FOUND:
        return "TC_E_NOT_FOUND";
    case TC_E_INTERNAL:
        return "TC_E_INTERNAL";
    case TC_E_UNAVAILABLE:
        return "TC_E_UNAVAILABLE";
    case TC_E_NOT_SUPPORTED:
        return "TC_E_NOT_SUPPORTED";
    case TC_E_ALREADY_EXISTS:
        return "TC_E_ALREADY_EXISTS";
    case TC_E_TRANSPORT:
        return "TC_E_TRANSPORT";
    case TC_E_TIMEOUT:
        return "TC_E_TIMEOUT";
    case TC_E_CANCELLED:
        return "TC_E_CANCELLED";
    case TC_E_PROTOCOL:
        return "TC_E_PROTOCOL";
    case TC_E_BUSY:
        return "TC_E_BUSY";
    case TC_E_UNKNOWN:
        return "TC_E_UNKNOWN";
    case TC_E_SERVER:
        return "TC_E_SERVER";
    }
    return "TC_E_?";
}

const char *tc_code_str(tc_code code)
{
    switch (code) {
    case TC_OK:
        return "success";
    case TC_E_INVALID_ARG:
        return "invalid argument";
    case TC_E_NOMEM:
        return "out of memory";
    case TC_E_NOT_FOUND:
        return "not found";
    case TC_E_INTERNAL:
        return "internal error";
    case TC_E_UNAVAILABLE:
        return "unavailable";
    case TC_E_NOT_SUPPORTED:
        return "not supported";
    case TC_E_ALREADY_EXISTS:
        return "already exists";
    case TC_E_TRANSPORT:
        return "transport error";
    case TC_E_TIMEOUT:
        return "deadline exceeded";
    case TC_E_CANCELLED:
        return "cancelled";
    case TC_E_PROTOCOL:
        return "protocol error";
    case TC_E_BUSY:
        return "busy";
    case TC_E_UNKNOWN:
        return "unknown error";
    case TC_E_SERVER:
        return "server error";
    }
    return "unrecognised code";
}

int tc__code_to_http_status(tc_code code)
{
    switch (code) {
    case TC_OK:
        return 200;
    case TC_E_NOT_FOUND:
        return 404;
    case TC_E_INTERNAL:
    case TC_E_NOMEM:
        return 500;
    case TC_E_UNAVAILABLE:
        return 503;
    case TC_E_NOT_SUPPORTED:
        return 501;
    default:
        return 400;
    }
}

tc_code tc__code_from_http_status(long status)
{
    if (status >= 200 && status < 300)
        return TC_OK;
    switch (status) {
    case 400:
        return TC_E_INVALID_ARG;
    case 404:
        return TC_E_NOT_FOUND;
    case 500:
        return TC_E_INTERNAL;
    case 501:
        return TC_E_NOT_SUPPORTED;
    case 503:
        return TC_E_UNAVAILABLE;
    default:
        return TC_E_SERVER;
    }
}

/* gRPC status numbers: OK 0, CANCELLED 1, UNKNOWN 2, INVALID_ARGUMENT 3,
 * DEADLINE_EXCEEDED 4, NOT_FOUND 5, ALREADY_EXISTS 6, RESOURCE_EXHAUSTED 8,
 * UNIMPLEMENTED 12, INTERNAL 13, UNAVAILABLE 14. */
int tc__code_to_grpc_status(tc_code code)
{
    switch (code) {
    case TC_OK:
        return 0;
    case TC_E_CANCELLED:
        return 1;
    case TC_E_INVALID_ARG:
        return 3;
    case TC_E_TIMEOUT:
        return 4;
    case TC_E_NOT_FOUND:
        return 5;
    case TC_E_ALREADY_EXISTS:
        return 6;
    case TC_E_NOMEM:
        return 8;
    case TC_E_NOT_SUPPORTED:
        return 12;
    case TC_E_INTERNAL:
        return 13;
    case TC_E_UNAVAILABLE:
        return 14;
    default:
        return 2;
    }
}

tc_code tc__code_from_grpc_status(int status)
{
    switch (status) {
    case 0:
        return TC_OK;
    case 1:
        return TC_E_CANCELLED;
    case 3:
        return TC_E_INVALID_ARG;
    case 4:
        return TC_E_TIMEOUT;
    case 5:
        return TC_E_NOT_FOUND;
    case 6:
        return TC_E_ALREADY_EXISTS;
    case 12:
        return TC_E_NOT_SUPPORTED;
    case 13:
        return TC_E_INTERNAL;
    case 14:
        return TC_E_UNAVAILABLE;
    default:
        return TC_E_UNKNOWN;
    }
}
