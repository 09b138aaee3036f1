/* The OS side of the backend helpers: hooks, addresses, timers, small state files. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"
#include "wifi/wifiutil.h"

int wifiprov__wifiutil_run_hook(const char *hook, const char *ifname, int *pid_out)
{
    char cmd[512];
    pid_t pid;
    int n;

    *pid_out = -1;
    n = snprintf(cmd, sizeof(cmd), "%s \"$1\"", hook);
    if (n < 0 || (size_t)n >= sizeof(cmd))
        return WIFIPROV_ERR_INVAL;
    pid = fork();
    if (pid < 0)
        return WIFIPROV_ERR_IO;
    if (pid == 0) {
        /* The interface name is an argument, never part of the command text. */
        int fd = open("/dev/null", O_RDWR);

        setsid();
        if (fd >= 0) {
            dup2(fd, STDIN_FILENO);
            if (fd > STDERR_FILENO)
                close(fd);
        }
        execl("/bin/sh", "sh", "-c", cmd, "wifiprov-dhcp-hook", ifname, (char *)NULL);
        _exit(127);
    }
    *pid_out = (int)pid;
    return 0;
}

bool wifiprov__wifiutil_hook_done(int pid, int *status_out)
{
    int status = 0;
    pid_t r = waitpid((pid_t)pid, &status, WNOHANG);

    if (r == 0)
        return false;
    /* ECHILD: someone else reaped it (SIGCHLD ignored): it is done all the same. */
    *status_out = r == (pid_t)pid && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return true;
}

bool wifiprov__wifiutil_ipv4_of(const char *ifname, char out[WIFIPROV_IP4_MAX])
{
    struct ifaddrs *ifa, *i;
    bool found = false;

    if (getifaddrs(&ifa) < 0)
        return false;
    for (i = ifa; i && !found; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || strcmp(i->ifa_name, ifname))
            continue;
        found =
            inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, out, WIFIPROV_IP4_MAX) != NULL;
    }
    freeifaddrs(ifa);
    return found;
}

int wifiprov__wifiutil_timer(sd_event *ev, sd_event_source **src, uint64_t ms, sd_event_time_handler_t cb,
                             void *userdata)
{
    if (*src) {
        if (sd_event_source_set_time_relative(*src, ms * 1000) >= 0 &&
            sd_event_source_set_enabled(*src, SD_EVENT_ONESHOT) >= 0)
            return 0;
        *src = sd_event_source_disable_unref(*src);
    }
    if (sd_event_add_time_relative(ev, src, CLOCK_MONOTONIC, ms * 1000, 10 * 1000, cb, userdata) < 0)
        return WIFIPROV_ERR_NOMEM;
    return 0;
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int wifiprov__wifiutil_write_atomic(const char *dir, const char *name, const void *data, size_t len)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    int fd = -1, dfd = -1, ret = WIFIPROV_ERR_IO;
    bool tmp_made = false;

    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path) ||
        (size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, name) >= sizeof(tmp))
        return WIFIPROV_ERR_INVAL;
    fd = mkstemp(tmp); /* mode 0600 */
    if (fd < 0) {
        wifiprov__err("cannot create a file in %s: %s", dir, strerror(errno));
        goto out;
    }
    tmp_made = true;
    if (fchmod(fd, 0600) < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0) {
        wifiprov__err("cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (close(fd) < 0) {
        fd = -1;
        wifiprov__err("cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) < 0) {
        wifiprov__err("cannot rename %s to %s: %s", tmp, path, strerror(errno));
        goto out;
    }
    tmp_made = false;
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) < 0) {
        wifiprov__err("cannot sync %s: %s", dir, strerror(errno));
        goto out;
    }
    ret = 0;
out:
    if (fd >= 0)
        close(fd);
    if (dfd >= 0)
        close(dfd);
    if (tmp_made)
        unlink(tmp);
    return ret;
}

int wifiprov__wifiutil_remove_file(const char *dir, const char *name)
{
    char path[PATH_MAX];

    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
        return WIFIPROV_ERR_INVAL;
    if (unlink(path) < 0 && errno != ENOENT) {
        wifiprov__err("cannot remove %s: %s", path, strerror(errno));
        return WIFIPROV_ERR_IO;
    }
    return 0;
}

int wifiprov__wifiutil_read_file(const char *dir, const char *name, char *buf, size_t cap)
{
    char path[PATH_MAX];
    size_t len = 0;
    ssize_t n = 0;
    int fd;

    if (cap == 0 || (size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
        return WIFIPROV_ERR_INVAL;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? WIFIPROV_ERR_NOT_FOUND : WIFIPROV_ERR_IO;
    while (len < cap - 1 && (n = read(fd, buf + len, cap - 1 - len)) > 0)
        len += (size_t)n;
    close(fd);
    buf[len] = '\0';
    if (n < 0)
        return WIFIPROV_ERR_IO;
    return len == cap - 1 ? WIFIPROV_ERR_NOSPC : 0;
}
