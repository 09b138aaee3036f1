/*
 * Secrets: prompts on the controlling terminal (echo off for secrets, restored even
 * on Ctrl-C), secret files, and wiping. Prompts go to /dev/tty so they never mix
 * with the command's stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"

int64_t cli_prompt_ms;
volatile sig_atomic_t cli_defer_interrupt;
volatile sig_atomic_t cli_interrupted;

static volatile sig_atomic_t tty_saved;
static struct termios saved_termios;
static volatile sig_atomic_t tty_fd = -1;

static void restore_tty(void)
{
    if (tty_saved && tty_fd >= 0)
        tcsetattr(tty_fd, TCSAFLUSH, &saved_termios);
    tty_saved = 0;
}

static void on_signal(int sig)
{
    /* Only async-signal-safe calls here. */
    if (tty_saved && tty_fd >= 0) {
        tcsetattr(tty_fd, TCSAFLUSH, &saved_termios);
        (void)!write(tty_fd, "\n", 1);
    }
    if (cli_defer_interrupt && !cli_interrupted) {
        cli_interrupted = sig;
        return;
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

void cli_secret_install_signal_handlers(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

char *cli_prompt(const char *prompt, bool secret)
{
    char buf[512];
    char *ret = NULL;
    size_t len = 0;
    int fd;
    bool opened = false;
    int64_t t0 = cli_now_ms();

    fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
        opened = true;
    } else if (isatty(STDIN_FILENO)) {
        fd = STDIN_FILENO;
    } else {
        return NULL;
    }
    if (secret) {
        struct termios t;

        if (tcgetattr(fd, &saved_termios) == 0) {
            t = saved_termios;
            t.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK);
            t.c_lflag |= ECHONL;
            tty_fd = fd;
            tty_saved = 1;
            tcsetattr(fd, TCSAFLUSH, &t);
        }
    }
    (void)!write(opened ? fd : STDERR_FILENO, prompt, strlen(prompt));
    for (;;) {
        char ch;
        ssize_t n = read(fd, &ch, 1);

        if (n < 0 && errno == EINTR && !cli_interrupted)
            continue;
        if (n <= 0) {
            if (len == 0)
                goto out;
            break;
        }
        if (ch == '\n')
            break;
        if (ch == '\r')
            continue;
        if (len + 1 < sizeof(buf))
            buf[len++] = ch;
    }
    buf[len] = '\0';
    ret = strdup(buf);
out:
    if (secret)
        restore_tty();
    tty_fd = -1;
    wifiprov_memzero(buf, sizeof(buf));
    if (opened)
        close(fd);
    cli_prompt_ms += cli_now_ms() - t0;
    return ret;
}

char *cli_read_secret_file(const char *path)
{
    char buf[512];
    FILE *f = fopen(path, "re");
    char *ret = NULL;
    size_t n;

    if (!f)
        return NULL;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    if (ferror(f)) {
        errno = EIO;
        goto out;
    }
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    ret = strdup(buf);
out:
    wifiprov_memzero(buf, sizeof(buf));
    fclose(f);
    return ret;
}

void cli_secret_free(struct cli_secret *s)
{
    if (s->value) {
        wifiprov_memzero(s->value, strlen(s->value));
        free(s->value);
    }
    s->value = NULL;
    s->source = NULL;
}
