/*
 * wifiprovd figures (prints them; not a test):
 *   1. ApplyConfig -> Connected as seen by a client polling GetStatus every 10 ms,
 *      against the sim backend with several connect_ms values;
 *   2. daemon VmRSS idle, after N security-2 handshakes (each on a new connection and
 *      session, all kept in the session table), and after N more;
 *   3. daemon CPU per security-2 handshake over loopback HTTP. The handshakes are paced to
 *      the daemon's per-address Command0 limit (burst 5, then 2 per second; one client
 *      address here), so the end-to-end rate is that limit's, not the daemon's capacity:
 *      bench_handshake and bench_sessions measure that in-process.
 *
 * Usage: bench_daemon [handshakes]   (default 60, about 30 s per round)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "itest.h"
#include "testutil.h"

static long proc_status_kb(pid_t pid, const char *key)
{
    char path[64], line[256];
    FILE *f;
    long v = -1;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, key, strlen(key)) == 0)
            v = strtol(line + strlen(key) + 1, NULL, 10);
    }
    fclose(f);
    return v;
}

/* utime + stime of @p pid in seconds. */
static double proc_cpu_s(pid_t pid)
{
    char path[64], buf[1024], *p;
    unsigned long ut = 0, st = 0;
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')');
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void write_networks(const struct itest_daemon *d, unsigned connect_ms)
{
    char path[PATH_MAX + 32];
    FILE *f;

    snprintf(path, sizeof(path), "%s/networks.json", d->dir);
    f = fopen(path, "w");
    if (!f)
        abort();
    fprintf(f,
            "[{\"ssid\": \"BenchNet\", \"auth\": \"wpa2_psk\", \"passphrase\": \"bench-passphrase\", "
            "\"connect_ms\": %u, \"ip\": \"192.168.7.7\"}]\n",
            connect_ms);
    fclose(f);
}

/* The daemon's arguments; the handshake part raises the session limit (MAX_SESSIONS_ARG):
 * established sessions are never evicted, so its table must hold both rounds. */
#define MAX_SESSIONS_ARG 9
static const char *sec2_args[] = {"--security",
                                  "2",
                                  "--sec2-username",
                                  "wifiprov",
                                  "--sec2-password",
                                  "abcd1234",
                                  "--auto-stop",
                                  "0",
                                  "--max-sessions",
                                  "8",
                                  NULL};

static void bench_connect_latency(void)
{
    static const unsigned connect_ms[] = {0, 200, 1000};

    printf("ApplyConfig -> Connected seen by a client polling every 10 ms (sim backend, security 2):\n");
    for (size_t i = 0; i < sizeof(connect_ms) / sizeof(connect_ms[0]); i++) {
        struct itest_daemon d;
        struct itest_client c;
        struct wifiprov_wifi_creds cr;
        struct wifiprov_wifi_status st;
        int status;
        uint64_t t0, t1;

        itest_daemon_init(&d);
        write_networks(&d, connect_ms[i]);
        itest_daemon_start(&d, sec2_args, NULL);
        itest_client_open(&c, &d);
        itest_client_session(&c, WIFIPROV_SECURITY_2, NULL, "wifiprov", "abcd1234");
        if (wifiprov_client_handshake(c.wc) != 0)
            abort();
        memset(&cr, 0, sizeof(cr));
        memcpy(cr.ssid, "BenchNet", 8);
        cr.ssid_len = 8;
        strcpy(cr.passphrase, "bench-passphrase");
        cr.passphrase_len = (uint8_t)strlen(cr.passphrase);
        if (wifiprov_client_set_config(c.wc, &cr, &status) != 0)
            abort();
        t0 = itest_now_ms();
        if (wifiprov_client_apply_config(c.wc, &status) != 0)
            abort();
        do {
            usleep(10000);
            if (wifiprov_client_get_status(c.wc, &st) != 0)
                abort();
        } while (st.state == WIFIPROV_STA_STATE_CONNECTING && itest_now_ms() - t0 < 30000);
        t1 = itest_now_ms();
        printf("  connect_ms %4u: %4llu ms (%s), overhead %lld ms\n", connect_ms[i], (unsigned long long)(t1 - t0),
               wifiprov_sta_state_to_string(st.state), (long long)(t1 - t0) - (long long)connect_ms[i]);
        itest_client_close(&c);
        itest_daemon_stop(&d);
        itest_daemon_cleanup(&d);
    }
}

static void bench_handshakes(int n)
{
    struct itest_daemon d;
    long rss_idle, rss_1 = -1, rss_2 = -1, hwm;
    double cpu0, cpu1;
    uint64_t t0, t1;

    itest_daemon_init(&d);
    write_networks(&d, 200);
    sec2_args[MAX_SESSIONS_ARG] = "1024";
    itest_daemon_start(&d, sec2_args, NULL);
    usleep(200000);
    rss_idle = proc_status_kb(d.pid, "VmRSS:");
    for (int round = 0; round < 2; round++) {
        cpu0 = proc_cpu_s(d.pid);
        if (round > 0)
            usleep(3000000); /* the bucket refills to its burst */
        t0 = itest_now_ms();
        for (int i = 0; i < n; i++) {
            struct itest_client c;
            /* The sixth and later starts wait for the bucket's next token (2/s), with margin. */
            uint64_t due = t0 + (i < 5 ? 0 : (uint64_t)(i - 4) * 550u);
            uint64_t now = itest_now_ms();
            if (now < due)
                usleep((useconds_t)((due - now) * 1000u));
            itest_client_open(&c, &d);
            itest_client_session(&c, WIFIPROV_SECURITY_2, NULL, "wifiprov", "abcd1234");
            if (wifiprov_client_handshake(c.wc) != 0) {
                fprintf(stderr, "handshake %d failed; the daemon's log: %s\n", i, d.log);
                abort();
            }
            itest_client_close(&c);
        }
        t1 = itest_now_ms();
        cpu1 = proc_cpu_s(d.pid);
        if (round == 0) {
            rss_1 = proc_status_kb(d.pid, "VmRSS:");
            printf("Security-2 handshakes over loopback HTTP (new connection and session each, every one kept,\n"
                   "paced to the per-address Command0 limit: burst 5, then 2/s):\n");
        } else {
            rss_2 = proc_status_kb(d.pid, "VmRSS:");
        }
        printf("  round %d: %d handshakes in %.2f s; daemon CPU %.3f s = %.2f ms per handshake "
               "(%.0f handshakes per daemon-core second)\n",
               round + 1, n, (double)(t1 - t0) / 1000.0, cpu1 - cpu0, n > 0 ? (cpu1 - cpu0) * 1000.0 / n : 0.0,
               cpu1 > cpu0 ? n / (cpu1 - cpu0) : 0.0);
    }
    hwm = proc_status_kb(d.pid, "VmHWM:");
    printf("Daemon VmRSS: idle %ld kB, after %d handshakes %ld kB, after %d %ld kB (peak %ld kB)\n", rss_idle, n, rss_1,
           2 * n, rss_2, hwm);
    itest_daemon_stop(&d);
    itest_daemon_cleanup(&d);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 60;

    if (n > 500)
        n = 500; /* two rounds in the 1,024-session table */

    if (n <= 0)
        n = 60;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    bench_connect_latency();
    bench_handshakes(n);
    curl_global_cleanup();
    return 0;
}
