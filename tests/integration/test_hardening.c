/*
 * Guessing and flooding, against the real wifiprovd on loopback: a flood of
 * malformed and unauthenticated requests from several addresses while the real
 * wifiprov CLI provisions, wrong-PoP attempts that get throttled, a session cookie
 * replayed from another address, the lock-out and its SIGUSR1 unlock, the
 * per-address connection limit and the handshake bound.
 *
 * Other peers use other loopback addresses (127.0.0.2, ...): the client socket is
 * bound to them before it connects to the daemon on 127.0.0.1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <curl/curl.h>
#include "itest.h"
#include "testutil.h"

#ifndef WIFIPROV_CLI_PATH
#error "WIFIPROV_CLI_PATH must name the wifiprov binary"
#endif

/* --- raw HTTP from a chosen source address ------------------------------------------ */

/* Sends one POST on @p fd; @return 0 or -1. */
static int send_post(int fd, const char *path, const char *cookie, const uint8_t *body, size_t len)
{
    char head[512];
    int n = snprintf(head, sizeof(head), "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s%sContent-Length: %zu\r\n\r\n",
                     path, cookie ? "Cookie: " : "", cookie ? cookie : "", cookie ? "\r\n" : "", len);

    if (send(fd, head, (size_t)n, MSG_NOSIGNAL) != n)
        return -1;
    if (len && send(fd, body, len, MSG_NOSIGNAL) != (ssize_t)len)
        return -1;
    return 0;
}

/* A security-2 Command0 for user "wifiprov" with a random A (PROTOCOL.md §5.3): full price for the device. */
static size_t sec2_cmd0(uint8_t *out, unsigned *seed)
{
    static const uint8_t prefix[] = {0x10, 0x02, 0x62, 0x91, 0x03, 0xa2, 0x01, 0x8d, 0x03, 0x0a, 0x08,
                                     'w',  'i',  'f',  'i',  'p',  'r',  'o',  'v',  0x12, 0x80, 0x03};

    memcpy(out, prefix, sizeof(prefix));
    for (size_t i = 0; i < 384; i++)
        out[sizeof(prefix) + i] = (uint8_t)(rand_r(seed) | 1);
    return sizeof(prefix) + 384;
}

/* --- the flood ---------------------------------------------------------------------------- */

struct flood {
    pthread_t thread;
    unsigned port;
    char src[16];
    unsigned seed;
    volatile int *stop;
    unsigned sent, answered, connections;
    unsigned cmd0_answered; /* real Command0s the device did the expensive work for */
};

static void *flood_main(void *arg)
{
    struct flood *fl = arg;
    uint8_t body[512];
    char resp[4096];

    while (!*fl->stop) {
        int fd = itest_connect_from(fl->src, fl->port);

        if (fd < 0) {
            usleep(2000);
            continue;
        }
        fl->connections++;
        /* A few requests per connection: every new connection is a new client to the daemon. */
        for (int k = 0, n = 1 + rand_r(&fl->seed) % 3; k < n && !*fl->stop; k++) {
            size_t len;
            const char *path, *cookie = NULL;
            bool cmd0 = false;

            switch (rand_r(&fl->seed) % 8) {
            case 0: /* garbage handshake */
            case 5:
                path = "/prov-session";
                len = 1 + (size_t)(rand_r(&fl->seed) % 64);
                for (size_t i = 0; i < len; i++)
                    body[i] = (uint8_t)rand_r(&fl->seed);
                break;
            case 1: /* a real Command0 nobody will finish */
                path = "/prov-session";
                len = sec2_cmd0(body, &fl->seed);
                cmd0 = true;
                break;
            case 2: /* an encrypted endpoint without (or with a guessed) session */
            case 3:
                path = "/prov-config";
                cookie = "session=1";
                len = 20;
                memset(body, 'z', len);
                break;
            default:
                path = "/proto-ver";
                len = 3;
                memcpy(body, "---", 3);
                break;
            }
            if (send_post(fd, path, cookie, body, len) < 0)
                break;
            fl->sent++;
            if (itest_read_response(fd, resp, sizeof(resp), 5000) == 0)
                break; /* closed without a response, as for any error */
            fl->answered++;
            fl->cmd0_answered += cmd0;
        }
        close(fd);
    }
    return NULL;
}

/* Runs the real wifiprov CLI with @p args (NULL-terminated); stdout to @p out_path. @return exit status. */
static int run_cli(const char *const *args, const char *out_path, int timeout_ms)
{
    const char *argv[32];
    size_t n = 0;
    uint64_t end = itest_now_ms() + (uint64_t)timeout_ms;
    pid_t pid;
    int st = 0;

    argv[n++] = WIFIPROV_CLI_PATH;
    for (size_t i = 0; args[i]; i++) {
        assert_true(n < 31);
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, 1);
        dup2(fd, 2);
        execv(WIFIPROV_CLI_PATH, (char *const *)argv);
        _exit(127);
    }
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        if (itest_now_ms() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -1;
        }
        usleep(20000);
    }
}

/* Malformed and unauthenticated requests from six connections on three addresses while an honest
 * client provisions with the wifiprov CLI: it succeeds, within 30 s. */
static void flood_honest_client(void **state)
{
    struct itest_fixture *f = *state;
    const char *args[] = {"--security", "2", "--sec2-username", SEC2_USER, "--sec2-password", SEC2_PASS, NULL};
    struct flood fl[6];
    volatile int stop = 0;
    char port[16], out[PATH_MAX + 32], pwfile[PATH_MAX + 32], addr[64];

    unsigned sent = 0, answered = 0, conns = 0, cmd0 = 0;
    uint64_t t0, took, t_flood, flood_ms, bound;
    int rc;
    FILE *pw;

    itest_daemon_start(&f->d, args, NULL);
    snprintf(port, sizeof(port), "%u", f->d.port);
    snprintf(out, sizeof(out), "%s/cli.out", f->d.dir);
    snprintf(pwfile, sizeof(pwfile), "%s/password", f->d.dir);
    pw = fopen(pwfile, "w");
    assert_non_null(pw);
    fputs(SEC2_PASS "\n", pw);
    fclose(pw);
    for (unsigned i = 0; i < 6; i++) {
        memset(&fl[i], 0, sizeof(fl[i]));
        fl[i].port = f->d.port;
        snprintf(fl[i].src, sizeof(fl[i].src), "127.0.0.%u", 2 + i % 3);
        fl[i].seed = 1234u + i;
        fl[i].stop = &stop;
        assert_int_equal(pthread_create(&fl[i].thread, NULL, flood_main, &fl[i]), 0);
    }
    t_flood = itest_now_ms();
    /* Let the flood fill the session table and empty the buckets first. */
    usleep(1500 * 1000);
    snprintf(addr, sizeof(addr), "127.0.0.1:%u", f->d.port);
    {
        const char *cli[] = {"provision",       "--address", addr,     "--username",  SEC2_USER,
                             "--password-file", pwfile,      "--ssid", "HomeNetwork", "--passphrase",
                             "correct-horse",   "--json",    NULL};
        t0 = itest_now_ms();
        rc = run_cli(cli, out, 30000);
        took = itest_now_ms() - t0;
    }
    stop = 1;
    for (unsigned i = 0; i < 6; i++) {
        pthread_join(fl[i].thread, NULL);
        sent += fl[i].sent;
        answered += fl[i].answered;
        conns += fl[i].connections;
        cmd0 += fl[i].cmd0_answered;
    }
    flood_ms = itest_now_ms() - t_flood;
    /* What the buckets let through: the device's 20 + 10/s, the reserve's 4 + 2/s (with 1 s of slack). */
    bound = 24 + (flood_ms + 1000) * 12 / 1000;
    print_message("flood: %u requests on %u connections in %llu ms (%u answered, %u security-2 Command0s "
                  "computed, bound %llu); honest provisioning took %llu ms\n",
                  sent, conns, (unsigned long long)flood_ms, answered, cmd0, (unsigned long long)bound,
                  (unsigned long long)took);
    if (rc != 0) {
        char *text = test_read_file(out, NULL);
        fail_msg("wifiprov provision during the flood: exit %d after %llu ms:\n%s", rc, (unsigned long long)took, text);
    }
    assert_true(took < 30000);
    assert_true(sent > 100); /* the flood really ran */
    /* The device did the expensive work for no more Command0s than the buckets allow. */
    assert_true(cmd0 <= bound);
    /* The flood met the policy: throttled starts and refused session-less requests. */
    assert_true(itest_log_contains(&f->d, "too many handshake starts"));
    assert_true(itest_log_contains(&f->d, "a session starts with prov-session"));
    assert_true(itest_log_contains(&f->d, "Connected with IP Address:192.168.1.42"));
    itest_daemon_stop(&f->d);
}

/* --- guessing ------------------------------------------------------------------------------ */

/* One handshake attempt with @p pop on a fresh connection. @return 0 established, 1 refused at its
 * start (Command0 dropped), 2 failed on the credentials (Command1 dropped). */
static int attempt(struct itest_fixture *f, const char *pop)
{
    struct itest_client c;
    int rc, ret;

    itest_client_open(&c, &f->d);
    itest_client_session(&c, WIFIPROV_SECURITY_1, pop, NULL, NULL);
    c.xfers = 0;
    rc = wifiprov_client_handshake(c.wc);
    ret = rc == 0 ? 0 : c.xfers == 0 ? 1 : 2;
    itest_client_close(&c);
    return ret;
}

/* 30 wrong PoPs, one every 100 ms: five free failures, then each further attempt waits 2, 4, ... s and
 * is refused at once meanwhile; the right PoP gets in once the delay is over. */
static void wrong_pop_throttled(void **state)
{
    struct itest_fixture *f = *state;
    const char *args[] = {"--security", "1", "--pop", SEC1_POP, NULL};
    unsigned refused = 0, failed = 0, right_refused = 0;
    struct wifiprov_wifi_status st;
    uint64_t t_last_fail = 0, t0, waited, delay;
    int r;

    itest_daemon_start(&f->d, args, NULL);
    t0 = itest_now_ms();
    for (unsigned i = 0; i < 30; i++) {
        uint64_t at = t0 + 100u * i, now = itest_now_ms();

        if (now < at)
            usleep((useconds_t)(at - now) * 1000u);
        r = attempt(f, "wrong-pop");
        assert_int_not_equal(r, 0);
        if (r == 2) {
            failed++;
            t_last_fail = itest_now_ms();
        } else {
            refused++;
        }
    }
    print_message("30 wrong PoPs in %llu ms: %u tried by the device, %u refused at once\n",
                  (unsigned long long)(itest_now_ms() - t0), failed, refused);
    /* About 3 s of attempts: 5 free failures, the 6th (2 s delay), the 7th (4 s delay); one less or more on
     * a slow or fast machine. Everything else was refused before the device saw it. */
    assert_true(failed >= 6 && failed <= 8);
    assert_int_equal(failed + refused, 30);
    assert_int_equal(itest_log_count(&f->d, "failed handshake (wrong credentials) from 127.0.0.1"), failed);
    assert_true(itest_log_contains(&f->d, "handshake from 127.0.0.1 refused: the peer waits after failed handshakes"));
    /* The right PoP: refused while the delay runs, accepted once it is over. */
    delay = 1000u << (failed - 5);
    while ((r = attempt(f, SEC1_POP)) == 1) {
        right_refused++;
        assert_true(itest_now_ms() - t_last_fail < delay + 5000);
        usleep(100 * 1000);
    }
    waited = itest_now_ms() - t_last_fail;
    print_message("the right PoP got in %llu ms after the last failure (delay %llu ms, %u refusals)\n",
                  (unsigned long long)waited, (unsigned long long)delay, right_refused);
    assert_int_equal(r, 0);
    assert_true(right_refused > 0);
    assert_true(waited + 100 >= delay);
    itest_client_open(&f->a, &f->d);
    itest_client_session(&f->a, WIFIPROV_SECURITY_1, SEC1_POP, NULL, NULL);
    assert_int_equal(wifiprov_client_handshake(f->a.wc), 0);
    itest_provision(&f->a, "HomeNetwork", "correct-horse");
    itest_wait_status(&f->a, &st);
    assert_int_equal(st.state, WIFIPROV_STA_STATE_CONNECTED);
    itest_daemon_stop(&f->d);
}

/* --max-auth-failures: every handshake refused after N failures, until SIGUSR1. */
static void lockout_sigusr1(void **state)
{
    struct itest_fixture *f = *state;
    const char *args[] = {"--security", "1", "--pop", SEC1_POP, "--max-auth-failures", "3", NULL};

    itest_daemon_start(&f->d, args, NULL);
    for (int i = 0; i < 3; i++)
        assert_int_equal(attempt(f, "wrong-pop"), 2);
    assert_true(
        itest_log_wait(&f->d, "3 failed handshakes: every handshake is refused from now on; send SIGUSR1", 5000));
    usleep(1100 * 1000);
    assert_int_equal(attempt(f, SEC1_POP), 1);
    assert_true(itest_log_wait(&f->d, "handshakes are locked after too many failures", 5000));
    kill(f->d.pid, SIGUSR1);
    assert_true(itest_log_wait(&f->d, "handshakes were locked after 3 failures; unlocking", 5000));
    assert_int_equal(attempt(f, SEC1_POP), 0);
    itest_daemon_stop(&f->d);
}

/* --- replay, connections, handshake bound -------------------------------------------------- */

/* A cookie seen on the air, replayed from another address: refused; the victim's session goes on. */
static void cookie_replay_other_peer(void **state)
{
    struct itest_fixture *f = *state;
    const char *args[] = {"--security", "1", "--pop", SEC1_POP, NULL};
    static const uint8_t restart[] = {0x10, 0x01, 0x5a, 0x02, 0x08, 0x00}; /* a broken Command0 */
    static const uint8_t junk[20] = {0};
    struct wifiprov_wifi_status st;
    char resp[2048];
    int fd;

    itest_daemon_start(&f->d, args, NULL);
    itest_client_open(&f->a, &f->d);
    itest_client_session(&f->a, WIFIPROV_SECURITY_1, SEC1_POP, NULL, NULL);
    assert_int_equal(wifiprov_client_handshake(f->a.wc), 0);
    assert_int_equal(wifiprov_client_get_status(f->a.wc, &st), 0);
    assert_string_not_equal(f->a.cookie, "");

    /* From 127.0.0.2 with the victim's cookie: a handshake restart and an encrypted request. */
    fd = itest_connect_from("127.0.0.2", f->d.port);
    assert_true(fd >= 0);
    assert_int_equal(send_post(fd, "/prov-session", f->a.cookie, restart, sizeof(restart)), 0);
    assert_int_equal(itest_read_response(fd, resp, sizeof(resp), 5000), 0); /* closed without a response */
    close(fd);
    fd = itest_connect_from("127.0.0.2", f->d.port);
    assert_true(fd >= 0);
    assert_int_equal(send_post(fd, "/prov-ctrl", f->a.cookie, junk, sizeof(junk)), 0);
    assert_int_equal(itest_read_response(fd, resp, sizeof(resp), 5000), 0);
    close(fd);
    assert_true(itest_log_wait(&f->d, "request from 127.0.0.2 refused: the session belongs to another peer", 5000));

    /* The victim's session still works, in step (AES-CTR would be off by one had anything been decrypted). */
    assert_int_equal(wifiprov_client_get_status(f->a.wc, &st), 0);
    itest_provision(&f->a, "HomeNetwork", "correct-horse");
    itest_wait_status(&f->a, &st);
    assert_int_equal(st.state, WIFIPROV_STA_STATE_CONNECTED);
    itest_daemon_stop(&f->d);
}

/* --max-connections-per-peer: one address cannot take every connection. */
static void connections_per_peer(void **state)
{
    struct itest_fixture *f = *state;
    const char *args[] = {"--security", "0", "--max-connections-per-peer", "2", NULL};
    static const uint8_t probe[] = "---";
    char resp[4096];
    int fds[3], other;

    itest_daemon_start(&f->d, args, NULL);
    for (int i = 0; i < 3; i++) {
        fds[i] = itest_connect_from("127.0.0.2", f->d.port);
        assert_true(fds[i] >= 0);
    }
    /* The first two are served; the third is closed by the daemon. */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(send_post(fds[i], "/proto-ver", NULL, probe, 3), 0);
        assert_true(itest_read_response(fds[i], resp, sizeof(resp), 5000) > 0);
    }
    send_post(fds[2], "/proto-ver", NULL, probe, 3);
    assert_int_equal(itest_read_response(fds[2], resp, sizeof(resp), 5000), 0);
    /* Another address still gets in. */
    other = itest_connect_from("127.0.0.3", f->d.port);
    assert_true(other >= 0);
    assert_int_equal(send_post(other, "/proto-ver", NULL, probe, 3), 0);
    assert_true(itest_read_response(other, resp, sizeof(resp), 5000) > 0);
    assert_non_null(strstr(resp, "HTTP/1.1 200"));
    for (int i = 0; i < 3; i++)
        close(fds[i]);
    close(other);
    itest_daemon_stop(&f->d);
}

/* --handshake-timeout: a half-open session is closed; it cannot be continued after. */
static void handshake_bound(void **state)
{
    struct itest_fixture *f = *state;
    const char *args[] = {
        "--security", "2", "--sec2-username", SEC2_USER, "--sec2-password", SEC2_PASS, "--handshake-timeout",
        "1",          NULL};
    uint8_t body[512];
    unsigned seed = 7;
    char resp[4096];
    size_t len;
    int fd;

    itest_daemon_start(&f->d, args, NULL);
    fd = itest_connect_from("127.0.0.2", f->d.port);
    assert_true(fd >= 0);
    len = sec2_cmd0(body, &seed);
    assert_int_equal(send_post(fd, "/prov-session", NULL, body, len), 0);
    assert_true(itest_read_response(fd, resp, sizeof(resp), 5000) > 0);
    assert_non_null(strstr(resp, "Set-Cookie: session="));
    assert_true(itest_log_wait(&f->d, "handshake not completed in time; session closed", 5000));
    /* The connection's session is gone: a Command1 now is refused. */
    memset(body, 0, sizeof(body));
    assert_int_equal(send_post(fd, "/prov-session", NULL, (const uint8_t *)"\x10\x02\x62\x02\x08\x02", 6), 0);
    assert_int_equal(itest_read_response(fd, resp, sizeof(resp), 5000), 0);
    close(fd);
    itest_daemon_stop(&f->d);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(flood_honest_client, itest_setup, itest_teardown),
        cmocka_unit_test_setup_teardown(wrong_pop_throttled, itest_setup, itest_teardown),
        cmocka_unit_test_setup_teardown(lockout_sigusr1, itest_setup, itest_teardown),
        cmocka_unit_test_setup_teardown(cookie_replay_other_peer, itest_setup, itest_teardown),
        cmocka_unit_test_setup_teardown(connections_per_peer, itest_setup, itest_teardown),
        cmocka_unit_test_setup_teardown(handshake_bound, itest_setup, itest_teardown),
    };
    int ret;

    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    ret = TEST_RUN("hardening", tests, argc, argv);
    curl_global_cleanup();
    return ret;
}
