#include "log.h"

#include <stdarg.h>
#include <stdio.h>

static tc_log_cb g_cb;
static void *g_cb_data;
static tc_log_level g_max = TC_LOG_INFO;

void tc_set_log_callback(tc_log_cb cb, tc_log_level max_level, void *user_data)
{
    g_cb = cb;
    g_cb_data = user_data;
    g_max = max_level;
}

bool tc__log_enabled(tc_log_level level)
{
    return g_cb != NULL && level <= g_max;
}

void tc__log(tc_log_level level, const char *fmt, ...)
{
    if (!tc__log_enabled(level))
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    g_cb(level, msg, g_cb_data);
}
