/*
 * wifiprovd under systemd: readiness and status for a Type=notify unit (sd_notify: READY=1,
 * STATUS=..., STOPPING=1; nothing happens without $NOTIFY_SOCKET), and syslog priorities on
 * the log lines when standard error is the journal ($JOURNAL_STREAM names its device and
 * inode), so `journalctl -p warning` works. On a terminal the lines stay as they are.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "wifiprovd.h"

static bool stderr_is_journal;

void wifiprovd_service_init(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat sb;

    stderr_is_journal = js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &sb) == 0 &&
                        (unsigned long long)sb.st_dev == dev && (unsigned long long)sb.st_ino == ino;
}

const char *wifiprovd_service_log_prefix(char level)
{
    if (!stderr_is_journal)
        return "";
    switch (level) {
    case 'E':
        return SD_ERR;
    case 'W':
        return SD_WARNING;
    case 'D':
        return SD_DEBUG;
    default:
        return SD_INFO;
    }
}

bool wifiprovd_file_too_open(const struct stat *sb)
{
    /* Group-readable is fine when the group is the daemon's own (the unit's Group=wifiprov). */
    return (sb->st_mode & 007) || ((sb->st_mode & 070) && sb->st_gid != getegid());
}

void wifiprovd_service_ready(void)
{
    sd_notify(0, "READY=1");
}

void wifiprovd_service_status(const char *fmt, ...)
{
    char buf[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    sd_notifyf(0, "STATUS=%s", buf);
}

void wifiprovd_service_stopping(void)
{
    sd_notify(0, "STOPPING=1\nSTATUS=Stopping");
}
