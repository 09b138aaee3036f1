/* The library's logging: formatted here, delivered to the application's handler. */
#include <stdarg.h>
#include <stdio.h>

#include "util.h"

static wifiprov_log_fn log_fn;
static void *log_ctx;
static enum wifiprov_log_level log_max = WIFIPROV_LOG_LEVEL_INFO;

void wifiprov_set_log_handler(wifiprov_log_fn fn, void *ctx, enum wifiprov_log_level max_level)
{
    log_fn = fn;
    log_ctx = ctx;
    log_max = max_level;
}

bool wifiprov__log_enabled(enum wifiprov_log_level level)
{
    return log_fn && level <= log_max;
}

void wifiprov__log(enum wifiprov_log_level level, const char *fmt, ...)
{
    char buf[256];
    va_list ap;

    if (!wifiprov__log_enabled(level))
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    log_fn(log_ctx, level, buf);
}
