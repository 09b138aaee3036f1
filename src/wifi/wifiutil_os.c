/* The OS side of the backend helpers: deferred reports, hooks, addresses, timers. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"
#include "wifi/wifiutil.h"

static int reports_run(sd_event_source *s, void *userdata)
{
    struct wifiprov__reports *r = userdata;
    struct wifiprov_wifi_event ev;

    r->defer = sd_event_source_disable_unref(r->defer);
    /* Deliver one at a time from a copy: the handler may post or clear. */
    while (r->n > 0) {
        memset(&ev, 0, sizeof(ev));
        ev.type = r->q[0].type;
        ev.reason = r->q[0].reason;
        r->n--;
        memmove(&r->q[0], &r->q[1], r->n * sizeof(r->q[0]));
        r->fn(r->ctx, &ev);
    }
    return 0;
}

int wifiprov__reports_post(struct wifiprov__reports *r, enum wifiprov_wifi_event_type type,
                           enum wifiprov_fail_reason reason)
{
    if (r->n >= WIFIPROV_ARRAY_SIZE(r->q))
        return WIFIPROV_ERR_BUSY;
    if (!r->defer && sd_event_add_defer(r->event, &r->defer, reports_run, r) < 0)
        return WIFIPROV_ERR_NOMEM;
    r->q[r->n].type = type;
    r->q[r->n].reason = reason;
    r->n++;
    return 0;
}

void wifiprov__reports_clear(struct wifiprov__reports *r)
{
    r->n = 0;
    r->defer = sd_event_source_disable_unref(r->defer);
}

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
        found = inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, out,
                          WIFIPROV_IP4_MAX) != NULL;
    }
    freeifaddrs(ifa);
    return found;
}

int wifiprov__wifiutil_timer(sd_event *ev, sd_event_source **src, uint64_t ms,
                             sd_event_time_handler_t cb, void *userdata)
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
