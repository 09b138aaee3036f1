/*
 * The application endpoint "custom-data" (PROTOCOL.md §8.5). Without a command it
 * logs the request and answers the 8 bytes "SUCCESS\0" like the ESP-IDF example.
 * With --custom-data-command it runs the command through /bin/sh -c, the request on
 * its standard input, and answers its standard output. The command runs in the
 * background: the request is PENDING until it exits (or is killed at the time limit),
 * so the daemon's single thread keeps serving everyone else meanwhile.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wifiprov/device.h"
#include "util.h"
#include "wifiprovd.h"

#define CUSTOM_ENDPOINT "custom-data"
#define OUTPUT_MAX 4000

extern char **environ;

struct job {
    struct job *next;
    struct wifiprovd_custom *owner;
    uint32_t session_id;
    pid_t pid;
    int out_fd;
    sd_event_source *child;
    sd_event_source *io;
    sd_event_source *timer;
    size_t len;
    bool truncated;
    bool exited;
    bool timed_out;
    int status;
    uint8_t out[OUTPUT_MAX];
};

struct wifiprovd_custom {
    sd_event *event;
    struct wifiprov_device *dev;
    char *command;
    unsigned timeout_s;
    struct job *jobs;
};

static void job_free(struct job *j)
{
    if (!j)
        return;
    if (!j->exited && j->pid > 0) {
        kill(-j->pid, SIGKILL);
        /* sd-event reaps it only while its source exists; reap here instead. */
        waitpid(j->pid, NULL, 0);
    }
    sd_event_source_disable_unref(j->child);
    sd_event_source_disable_unref(j->io);
    sd_event_source_disable_unref(j->timer);
    if (j->out_fd >= 0)
        close(j->out_fd);
    free(j);
}

static void job_unlink(struct wifiprovd_custom *c, struct job *j)
{
    for (struct job **pp = &c->jobs; *pp; pp = &(*pp)->next) {
        if (*pp == j) {
            *pp = j->next;
            return;
        }
    }
}

static struct job *job_find(struct wifiprovd_custom *c, uint32_t sid)
{
    for (struct job *j = c->jobs; j; j = j->next) {
        if (j->session_id == sid)
            return j;
    }
    return NULL;
}

static void drain(struct job *j)
{
    uint8_t scratch[512];

    while (j->out_fd >= 0) {
        ssize_t n;
        if (j->len < OUTPUT_MAX)
            n = read(j->out_fd, j->out + j->len, OUTPUT_MAX - j->len);
        else
            n = read(j->out_fd, scratch, sizeof(scratch));
        if (n > 0) {
            if (j->len < OUTPUT_MAX)
                j->len += (size_t)n;
            else
                j->truncated = true;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0) {
            j->io = sd_event_source_disable_unref(j->io);
            close(j->out_fd);
            j->out_fd = -1;
        }
        break; /* EAGAIN: more later */
    }
}

static int on_output(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
    (void)s;
    (void)fd;
    (void)revents;
    drain(ud);
    return 0;
}

static int on_exit_child(sd_event_source *s, const siginfo_t *si, void *ud)
{
    struct job *j = ud;

    (void)s;
    j->exited = true;
    j->status = si->si_code == CLD_EXITED ? si->si_status : 128 + si->si_status;
    drain(j); /* what is left in the pipe; grandchildren holding it open are not waited for */
    j->timer = sd_event_source_disable_unref(j->timer);
    wd_dbg("custom-data command finished with status %d", j->status);
    wifiprov_device_wake(j->owner->dev);
    return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *ud)
{
    struct job *j = ud;

    (void)s;
    (void)usec;
    wd_warn("custom-data command still running after %u s; killing it", j->owner->timeout_s);
    j->timed_out = true;
    kill(-j->pid, SIGKILL);
    return 0;
}

static int job_start(struct wifiprovd_custom *c, uint32_t sid, const uint8_t *data, size_t len, struct job **out)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, def;
    int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1};
    char *argv[] = {"/bin/sh", "-c", c->command, NULL};
    struct job *j = calloc(1, sizeof(*j));
    uint64_t now = 0;
    int r, ret = WIFIPROV_ERR_IO;

    if (!j)
        return WIFIPROV_ERR_NOMEM;
    j->owner = c;
    j->session_id = sid;
    j->out_fd = -1;
    if (pipe2(in_pipe, O_CLOEXEC) < 0 || pipe2(out_pipe, O_CLOEXEC) < 0) {
        wd_err("custom-data: pipe: %s", strerror(errno));
        goto fail;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in_pipe[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
    posix_spawnattr_init(&attr);
    sigemptyset(&none);
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &def);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
    r = posix_spawn(&j->pid, "/bin/sh", &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (r != 0) {
        j->pid = 0;
        wd_err("custom-data: cannot run /bin/sh: %s", strerror(r));
        goto fail;
    }
    close(in_pipe[0]);
    close(out_pipe[1]);
    in_pipe[0] = out_pipe[1] = -1;
    /* The request (at most 4096 bytes) fits in the pipe buffer; a command that does not read it is fine. */
    fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
    if (len > 0 && write(in_pipe[1], data, len) != (ssize_t)len)
        wd_warn("custom-data: the command did not take the whole request");
    close(in_pipe[1]);
    in_pipe[1] = -1;
    j->out_fd = out_pipe[0];
    out_pipe[0] = -1;
    fcntl(j->out_fd, F_SETFL, O_NONBLOCK);
    sd_event_now(c->event, CLOCK_MONOTONIC, &now);
    r = sd_event_add_io(c->event, &j->io, j->out_fd, EPOLLIN, on_output, j);
    if (r >= 0)
        r = sd_event_add_child(c->event, &j->child, j->pid, WEXITED, on_exit_child, j);
    if (r >= 0)
        r = sd_event_add_time(c->event, &j->timer, CLOCK_MONOTONIC, now + (uint64_t)c->timeout_s * 1000000u, 10000,
                              on_timeout, j);
    if (r < 0) {
        wd_err("custom-data: sd-event: %s", strerror(-r));
        goto fail;
    }
    *out = j;
    return 0;
fail:
    for (int i = 0; i < 2; i++) {
        if (in_pipe[i] >= 0)
            close(in_pipe[i]);
        if (out_pipe[i] >= 0)
            close(out_pipe[i]);
    }
    job_free(j);
    return ret;
}

static int handle(void *ctx, const struct wifiprov_request *req, uint8_t *out, size_t out_cap, size_t *out_len)
{
    static const uint8_t success[] = {'S', 'U', 'C', 'C', 'E', 'S', 'S', 0};
    struct wifiprovd_custom *c = ctx;
    struct job *j;
    int err;

    if (!c->command) {
        char shown[200];
        wifiprovd_escape(req->data, WIFIPROV_MIN(req->len, (size_t)48), shown, sizeof(shown));
        wd_info("Received data: %s%s", shown, req->len > 48 ? "..." : "");
        if (out_cap < sizeof(success))
            return WIFIPROV_ERR_NOSPC;
        memcpy(out, success, sizeof(success));
        *out_len = sizeof(success);
        return 0;
    }
    j = job_find(c, req->session_id);
    if (!req->resumed) {
        if (j) {
            /* Left over from a request whose connection went away. */
            job_unlink(c, j);
            job_free(j);
        }
        wd_info("Received custom data (%zu bytes); running the custom-data command", req->len);
        err = job_start(c, req->session_id, req->data, req->len, &j);
        if (err)
            return err;
        j->next = c->jobs;
        c->jobs = j;
        return WIFIPROV_ERR_PENDING;
    }
    if (!j)
        return WIFIPROV_ERR_STATE;
    if (!j->exited)
        return WIFIPROV_ERR_PENDING;
    job_unlink(c, j);
    if (j->timed_out || j->status != 0) {
        wd_warn("custom-data command failed (%s); the exchange fails",
                j->timed_out ? "timed out" : "non-zero exit status");
        err = WIFIPROV_ERR_IO;
    } else if (j->len > out_cap) {
        err = WIFIPROV_ERR_NOSPC;
    } else {
        if (j->truncated)
            wd_warn("custom-data command wrote more than %d bytes; the reply is cut", OUTPUT_MAX);
        memcpy(out, j->out, j->len);
        *out_len = j->len;
        err = 0;
    }
    job_free(j);
    return err;
}

int wifiprovd_custom_new(sd_event *event, struct wifiprov_device *dev, const char *command, unsigned timeout_s,
                         struct wifiprovd_custom **out)
{
    struct wifiprovd_custom *c = calloc(1, sizeof(*c));
    int err;

    if (!c)
        return WIFIPROV_ERR_NOMEM;
    c->event = event;
    c->dev = dev;
    c->timeout_s = timeout_s ? timeout_s : 10;
    if (command && !(c->command = strdup(command))) {
        free(c);
        return WIFIPROV_ERR_NOMEM;
    }
    err = wifiprov_device_add_endpoint(dev, CUSTOM_ENDPOINT, handle, c);
    if (err) {
        free(c->command);
        free(c);
        return err;
    }
    *out = c;
    return 0;
}

void wifiprovd_custom_free(struct wifiprovd_custom *c)
{
    if (!c)
        return;
    while (c->jobs) {
        struct job *j = c->jobs;
        c->jobs = j->next;
        job_free(j);
    }
    free(c->command);
    free(c);
}
