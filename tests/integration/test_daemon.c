/*
 * Integration tests: the real wifiprovd binary on 127.0.0.1 (sim Wi-Fi backend,
 * temporary state directory), driven by the library client over libcurl and by raw
 * sockets. Every case kills its daemon in the teardown, also when it fails.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "itest.h"
#include "testutil.h"

static const char *const sec0_args[] = {"--security", "0", NULL};
static const char *const sec1_args[] = {"--security", "1", "--pop", SEC1_POP, NULL};
static const char *const sec2_args[] = {"--security", "2", "--sec2-username", SEC2_USER, "--sec2-password",
                                        SEC2_PASS, NULL};

static int tcp_connect(unsigned port);
static int wait_closed(int fd, int timeout_ms);
static void raw_sec0_session(int fd);

static void connect_client(struct itest_client *c, struct itest_daemon *d, enum wifiprov_security sec)
{
    itest_client_open(c, d);
    switch (sec) {
    case WIFIPROV_SECURITY_0:
        itest_client_session(c, sec, NULL, NULL, NULL);
        break;
    case WIFIPROV_SECURITY_1:
        itest_client_session(c, sec, SEC1_POP, NULL, NULL);
        break;
    case WIFIPROV_SECURITY_2:
        itest_client_session(c, sec, NULL, SEC2_USER, SEC2_PASS);
        break;
    }
    assert_int_equal(wifiprov_client_handshake(c->wc), 0);
    assert_true(wifiprov_client_established(c->wc));
}

static void state_file_checks(const struct itest_daemon *d, const char *ssid_hex, bool has_passphrase)
{
    char path[PATH_MAX + 32];
    struct stat sb;
    char *text;
    size_t len;
    DIR *dir;
    struct dirent *e;

    snprintf(path, sizeof(path), "%s/state.json", d->state);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    text = test_read_file(path, &len);
    assert_non_null(strstr(text, ssid_hex));
    assert_non_null(strstr(text, "\"backend\":\t\"sim\""));
    assert_int_equal(strstr(text, "passphrase_hex") != NULL, has_passphrase);
    free(text);
    /* No temporary files are left next to it. */
    dir = opendir(d->state);
    assert_non_null(dir);
    while ((e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            assert_string_equal(e->d_name, "state.json");
    }
    closedir(dir);
}

/* The whole flow: handshake, custom data, credentials, connected; state stored. */
static void provision_ok(void **state, const char *const *args, enum wifiprov_security sec)
{
    struct itest_fixture *f = *state;
    struct wifiprov_wifi_status st;
    uint8_t resp[64];
    size_t len = 0;

    itest_daemon_start(&f->d, args, NULL);
    connect_client(&f->a, &f->d, sec);
    assert_true(itest_log_wait(&f->d, "Secured session established!", 5000));

    /* Without --custom-data-command the endpoint answers "SUCCESS\0" (§8.5). */
    assert_int_equal(wifiprov_client_request(f->a.wc, "custom-data", (const uint8_t *)"hello", 5, resp, sizeof(resp),
                                             &len),
                     0);
    assert_int_equal(len, 8);
    assert_memory_equal(resp, "SUCCESS\0", 8);
    assert_true(itest_log_wait(&f->d, "Received data: hello", 5000));

    itest_provision(&f->a, "HomeNetwork", "correct-horse");
    itest_wait_status(&f->a, &st);
    assert_int_equal(st.state, WIFIPROV_STA_STATE_CONNECTED);
    assert_string_equal(st.ip4, "192.168.1.42");
    assert_int_equal(st.ssid_len, 11);
    assert_memory_equal(st.ssid, "HomeNetwork", 11);
    assert_true(itest_log_wait(&f->d, "Received Wi-Fi credentials\n\tSSID : HomeNetwork\n\tPassword : ********", 5000));
    assert_true(itest_log_wait(&f->d, "Provisioning successful", 5000));
    assert_true(itest_log_wait(&f->d, "Connected with IP Address:192.168.1.42", 5000));
    assert_false(itest_log_contains(&f->d, "correct-horse"));
    itest_daemon_stop(&f->d);
    state_file_checks(&f->d, "486f6d654e6574776f726b", true);
}

static void sec0_success(void **state)
{
    provision_ok(state, sec0_args, WIFIPROV_SECURITY_0);
}

static void sec1_success(void **state)
{
    provision_ok(state, sec1_args, WIFIPROV_SECURITY_1);
}

static void sec2_success(void **state)
{
    provision_ok(state, sec2_args, WIFIPROV_SECURITY_2);
}

/* Security 2 from a verifier file (docs/sec2-verifier-file.md), as gen-cred writes it. */
static void sec2_verifier_file(void **state)
{
    struct itest_fixture *f = *state;
    uint8_t salt[16], verifier[WIFIPROV_SEC2_VERIFIER_LEN];
    char salt_hex[33], ver_hex[2 * WIFIPROV_SEC2_VERIFIER_LEN + 1], path[PATH_MAX + 32];
    char *json;
    FILE *fp;
    int err;
    const char *args[] = {"--security", "2", "--sec2-verifier-file", path, "--qr-stdout", NULL};
    struct wifiprov_wifi_status st;
    char *out;
    size_t len;

    err = wifiprov_sec2_gen_salt_verifier(SEC2_USER, SEC2_PASS, sizeof(salt), NULL, NULL, salt, verifier);
    assert_int_equal(err, 0);
    for (size_t i = 0; i < sizeof(salt); i++)
        sprintf(salt_hex + 2 * i, "%02x", salt[i]);
    for (size_t i = 0; i < sizeof(verifier); i++)
        sprintf(ver_hex + 2 * i, "%02X", verifier[i]);
    snprintf(path, sizeof(path), "%s/sec2.json", f->d.dir);
    json = malloc(2048);
    assert_non_null(json);
    snprintf(json, 2048, "{\n  \"username\": \"%s\",\n  \"salt\": \"%s\",\n  \"verifier\": \"%s\"\n}\n", SEC2_USER,
             salt_hex, ver_hex);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(json, fp);
    fclose(fp);
    free(json);
    chmod(path, 0600);

    itest_daemon_start(&f->d, args, NULL);
    connect_client(&f->a, &f->d, WIFIPROV_SECURITY_2);
    itest_provision(&f->a, "CoffeeShop", "");
    itest_wait_status(&f->a, &st);
    assert_int_equal(st.state, WIFIPROV_STA_STATE_CONNECTED);
    assert_string_equal(st.ip4, "10.0.0.23");
    itest_daemon_stop(&f->d);
    /* The QR code names the user but carries no password (production mode). */
    out = test_read_file(f->d.out, &len);
    assert_non_null(strstr(out, "{\"ver\":\"v1\",\"name\":\"PROV_"));
    assert_non_null(strstr(out, "\"username\":\"" SEC2_USER "\",\"transport\":\"softap\"}"));
    assert_null(strstr(out, "\"pop\""));
    free(out);
    assert_false(itest_log_contains(&f->d, "development mode"));
    state_file_checks(&f->d, "436f6666656553686f70", false);
}

/* A blocking scan (held reply), then the results in pages of 2, strongest first. */
static void scan_paging(void **state)
{
    static const char *const expect[] = {"HomeNetwork", "Office", "CoffeeShop", "Garden", "Attic"};
    static const int32_t rssi[] = {-40, -55, -60, -70, -80};
    struct itest_fixture *f = *state;
    struct wifiprov_scan_opts so = {.blocking = true, .period_ms = 120};
    struct wifiprov_ap aps[4];
    bool finished = false;
    uint32_t count = 0, seen = 0;
    int status = -1;
    uint64_t t0;

    itest_daemon_start(&f->d, sec2_args, NULL);
    connect_client(&f->a, &f->d, WIFIPROV_SECURITY_2);
    t0 = itest_now_ms();
    assert_int_equal(wifiprov_client_scan_start(f->a.wc, &so, &status), 0);
    /* The reply waited for the 200 ms scan. */
    assert_true(itest_now_ms() - t0 >= 150);
    assert_int_equal(wifiprov_client_scan_status(f->a.wc, &finished, &count, &status), 0);
    assert_true(finished);
    assert_int_equal(count, 5);
    while (seen < count) {
        size_t n = 0;
        uint32_t want = count - seen < 2 ? count - seen : 2;
        assert_int_equal(wifiprov_client_scan_result(f->a.wc, seen, want, aps, &n, &status), 0);
        assert_int_equal(n, want);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(aps[i].ssid_len, strlen(expect[seen + i]));
            assert_memory_equal(aps[i].ssid, expect[seen + i], aps[i].ssid_len);
            assert_int_equal(aps[i].rssi, rssi[seen + i]);
        }
        seen += (uint32_t)n;
    }
    /* A non-blocking scan completes in the background. */
    so.blocking = false;
    assert_int_equal(wifiprov_client_scan_start(f->a.wc, &so, &status), 0);
    t0 = itest_now_ms();
    do {
        assert_true(itest_now_ms() - t0 < 10000);
        usleep(20000);
        assert_int_equal(wifiprov_client_scan_status(f->a.wc, &finished, &count, &status), 0);
    } while (!finished);
    assert_int_equal(count, 5);
    itest_daemon_stop(&f->d);
}

/* --custom-data-command: the request on stdin, stdout is the reply; failures drop the exchange. */
static void custom_data_command(void **state)
{
    struct itest_fixture *f = *state;
    const char *args[] = {"--security", "1", "--pop", SEC1_POP, "--custom-data-command",
                          "if grep -q fail; then exit 3; fi; echo -n got:", NULL};
    const char *args2[] = {"--security", "2", "--sec2-username", SEC2_USER, "--sec2-password", SEC2_PASS,
                           "--custom-data-command", "tr a-z A-Z", NULL};
    uint8_t resp[128];
    size_t len = 0;

    itest_daemon_start(&f->d, args, NULL);
    connect_client(&f->a, &f->d, WIFIPROV_SECURITY_1);
    assert_int_equal(wifiprov_client_request(f->a.wc, "custom-data", (const uint8_t *)"ok", 2, resp, sizeof(resp),
                                             &len),
                     0);
    assert_int_equal(len, 4);
    assert_memory_equal(resp, "got:", 4);
    itest_daemon_stop(&f->d);

    itest_client_close(&f->a);
    itest_daemon_start(&f->d, args2, NULL);
    connect_client(&f->a, &f->d, WIFIPROV_SECURITY_2);
    assert_int_equal(wifiprov_client_request(f->a.wc, "custom-data", (const uint8_t *)"hello world", 11, resp,
                                             sizeof(resp), &len),
                     0);
    assert_int_equal(len, 11);
    assert_memory_equal(resp, "HELLO WORLD", 11);
    itest_daemon_stop(&f->d);
}

static void custom_data_failure(void **state)
{
    struct itest_fixture *f = *state;
    const char *args[] = {"--security", "2", "--sec2-username", SEC2_USER, "--sec2-password", SEC2_PASS,
                          "--custom-data-command", "cat >/dev/null; exit 4", NULL};
    uint8_t resp[64];
    size_t len = 0;
    struct wifiprov_wifi_status st;

    itest_daemon_start(&f->d, args, NULL);
    connect_client(&f->a, &f->d, WIFIPROV_SECURITY_2);
    /* A failing command: no reply, the connection is closed. */
    assert_int_equal(wifiprov_client_request(f->a.wc, "custom-data", (const uint8_t *)"x", 1, resp, sizeof(resp),
                                             &len),
                     WIFIPROV_ERR_TRANSPORT);
    assert_true(itest_log_wait(&f->d, "custom-data command failed", 5000));
    /* The daemon carries on: a new client provisions normally. */
    itest_client_close(&f->a);
    connect_client(&f->a, &f->d, WIFIPROV_SECURITY_2);
    assert_int_equal(wifiprov_client_get_status(f->a.wc, &st), 0);
    itest_daemon_stop(&f->d);

    /* A command that runs too long is killed and the exchange fails; others are served meanwhile. */
    {
        const char *slow[] = {"--security", "0", "--custom-data-command", "sleep 20", "--custom-data-timeout", "2",
                              NULL};
        static const char req[] = "POST /custom-data HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx";
        uint64_t t0;
        int fd;

        itest_client_close(&f->a);
        itest_daemon_start(&f->d, slow, NULL);
        connect_client(&f->b, &f->d, WIFIPROV_SECURITY_0);
        fd = tcp_connect(f->d.port);
        raw_sec0_session(fd); /* a session comes from prov-session only */
        t0 = itest_now_ms();
        assert_int_equal(send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL), (ssize_t)(sizeof(req) - 1));
        usleep(100 * 1000);
        assert_int_equal(wifiprov_client_get_status(f->b.wc, &st), 0);
        /* B was answered while A's command still ran (A's connection is still open, unanswered). */
        assert_int_equal(wait_closed(fd, 0), -1);
        assert_int_equal(wait_closed(fd, 10000), 0); /* killed: closed without a response */
        assert_true(itest_now_ms() - t0 >= 1900);
        close(fd);
        assert_true(itest_log_contains(&f->d, "still running after 2 s; killing it"));
        itest_daemon_stop(&f->d);
    }
}

/*
 * Background scans: the daemon scans on its own while waiting for credentials, so a
 * client's blocking scan is answered from the list without waiting for the radio.
 * The same daemon with background scans off is the control.
 */
static void scan_from_background(void **state)
{
    static const char *const bg[] = {"--security", "2", "--sec2-username", SEC2_USER, "--sec2-password", SEC2_PASS,
                                     "--sim-scan-ms", "1000", "--scan-interval", "20", NULL};
    static const char *const no_bg[] = {"--security", "2", "--sec2-username", SEC2_USER, "--sec2-password",
                                        SEC2_PASS, "--sim-scan-ms", "1000", "--scan-interval", "0", NULL};
    struct itest_fixture *f = *state;
    struct wifiprov_scan_opts so = {.blocking = true, .period_ms = 120};
    bool finished = false;
    uint32_t count = 0;
    int status = -1;
    uint64_t t0;

    itest_daemon_start(&f->d, bg, NULL);
    connect_client(&f->a, &f->d, WIFIPROV_SECURITY_2);
    /* No client asked for a scan, yet the list fills once the background scan is done. */
    t0 = itest_now_ms();
    do {
        assert_true(itest_now_ms() - t0 < 10000);
        usleep(50000);
        assert_int_equal(wifiprov_client_scan_status(f->a.wc, &finished, &count, &status), 0);
    } while (count == 0);
    assert_int_equal(count, 5);
    t0 = itest_now_ms();
    assert_int_equal(wifiprov_client_scan_start(f->a.wc, &so, &status), 0);
    assert_true(itest_now_ms() - t0 < 500); /* a radio scan takes 1000 ms here */
    assert_int_equal(wifiprov_client_scan_status(f->a.wc, &finished, &count, &status), 0);
    assert_true(finished);
    assert_int_equal(count, 5);
    itest_client_close(&f->a);
    itest_daemon_stop(&f->d);

    itest_daemon_start(&f->d, no_bg, NULL);
    connect_client(&f->a, &f->d, WIFIPROV_SECURITY_2);
    usleep(1300 * 1000);
    assert_int_equal(wifiprov_client_scan_status(f->a.wc, &finished, &count, &status), 0);
    assert_int_equal(count, 0);
    t0 = itest_now_ms();
    assert_int_equal(wifiprov_client_scan_start(f->a.wc, &so, &status), 0);
    assert_true(itest_now_ms() - t0 >= 900);
    itest_daemon_stop(&f->d);
}

/* A wrong proof of possession: the device closes the connection at Cmd1. */
static void wrong_pop(void **state)
{
    struct itest_fixture *f = *state;
    struct wifiprov_wifi_status st;
    int err;

    itest_daemon_start(&f->d, sec1_args, NULL);
    itest_client_open(&f->a, &f->d);
    itest_client_session(&f->a, WIFIPROV_SECURITY_1, "wrong-pop", NULL, NULL);
    err = wifiprov_client_handshake(f->a.wc);
    assert_true(err == WIFIPROV_ERR_AUTH || err == WIFIPROV_ERR_TRANSPORT);
    assert_false(wifiprov_client_established(f->a.wc));
    assert_int_not_equal(f->a.last_http_status, 200); /* no HTTP answer at all */
    assert_true(itest_log_wait(&f->d, "incorrect username and/or PoP", 5000));
    /* The right PoP still works. */
    connect_client(&f->b, &f->d, WIFIPROV_SECURITY_1);
    assert_int_equal(wifiprov_client_get_status(f->b.wc, &st), 0);
    itest_daemon_stop(&f->d);
}

static void wrong_sec2_password(void **state)
{
    struct itest_fixture *f = *state;
    int err;

    itest_daemon_start(&f->d, sec2_args, NULL);
    itest_client_open(&f->a, &f->d);
    itest_client_session(&f->a, WIFIPROV_SECURITY_2, NULL, SEC2_USER, "not-the-password");
    err = wifiprov_client_handshake(f->a.wc);
    assert_true(err == WIFIPROV_ERR_AUTH || err == WIFIPROV_ERR_TRANSPORT);
    assert_true(itest_log_wait(&f->d, "incorrect username and/or PoP", 5000));
    itest_daemon_stop(&f->d);
}

/* Wrong passphrase -> AuthError, Reset, right passphrase -> Connected, all in one session. */
static void wrong_passphrase_reset(void **state)
{
    struct itest_fixture *f = *state;
    const char *args[] = {"--security", "1", "--pop", SEC1_POP, "--connect-attempts", "2", NULL};
    struct wifiprov_wifi_status st;
    int status = -1;

    itest_daemon_start(&f->d, args, NULL);
    connect_client(&f->a, &f->d, WIFIPROV_SECURITY_1);
    itest_provision(&f->a, "Office", "wrong-staple");
    itest_wait_status(&f->a, &st);
    assert_int_equal(st.state, WIFIPROV_STA_STATE_FAILED);
    assert_int_equal(st.fail_reason, WIFIPROV_FAIL_REASON_AUTH_ERROR);
    assert_true(itest_log_wait(&f->d, "Provisioning failed!\n\tReason : Wi-Fi station authentication failed", 5000));
    /* Apply again without Reset is refused (P18). */
    assert_int_equal(wifiprov_client_apply_config(f->a.wc, &status), WIFIPROV_ERR_DEVICE);
    assert_int_equal(status, 5);
    assert_int_equal(wifiprov_client_ctrl_reset(f->a.wc, &status), 0);
    itest_provision(&f->a, "Office", "battery-staple");
    itest_wait_status(&f->a, &st);
    assert_int_equal(st.state, WIFIPROV_STA_STATE_CONNECTED);
    assert_int_equal(f->a.xfers > 0, 1);
    assert_false(itest_log_contains(&f->d, "wrong-staple"));
    assert_false(itest_log_contains(&f->d, "battery-staple"));
    itest_daemon_stop(&f->d);
}

static void network_not_found(void **state)
{
    struct itest_fixture *f = *state;
    const char *args[] = {"--security", "0", "--connect-attempts", "1", NULL};
    struct wifiprov_wifi_status st;

    itest_daemon_start(&f->d, args, NULL);
    connect_client(&f->a, &f->d, WIFIPROV_SECURITY_0);
    itest_provision(&f->a, "NoSuchNetwork", "whatever-else");
    itest_wait_status(&f->a, &st);
    assert_int_equal(st.state, WIFIPROV_STA_STATE_FAILED);
    assert_int_equal(st.fail_reason, WIFIPROV_FAIL_REASON_NETWORK_NOT_FOUND);
    assert_true(itest_log_wait(&f->d, "Reason : Wi-Fi access-point not found", 5000));
    itest_daemon_stop(&f->d);
}

/* --auto-stop 0: after success, Reprov returns to provisioning and new credentials apply. */
static void reprov_after_success(void **state)
{
    struct itest_fixture *f = *state;
    const char *args[] = {"--security", "2", "--sec2-username", SEC2_USER, "--sec2-password", SEC2_PASS,
                          "--auto-stop", "0", NULL};
    struct wifiprov_wifi_status st;
    int status = -1;

    itest_daemon_start(&f->d, args, NULL);
    connect_client(&f->a, &f->d, WIFIPROV_SECURITY_2);
    itest_provision(&f->a, "HomeNetwork", "correct-horse");
    itest_wait_status(&f->a, &st);
    assert_int_equal(st.state, WIFIPROV_STA_STATE_CONNECTED);
    /* It keeps running (no auto-stop). */
    usleep(1500 * 1000);
    assert_true(itest_daemon_wait(&f->d, 0) == false);
    assert_int_equal(wifiprov_client_ctrl_reprov(f->a.wc, &status), 0);
    itest_provision(&f->a, "Garden", "green-grass");
    itest_wait_status(&f->a, &st);
    assert_int_equal(st.state, WIFIPROV_STA_STATE_CONNECTED);
    assert_int_equal(st.ssid_len, 6);
    assert_memory_equal(st.ssid, "Garden", 6);
    itest_daemon_stop(&f->d);
    state_file_checks(&f->d, "47617264656e", true);
}

/* Default auto-stop: the daemon ends by itself, exit status 0. */
static void auto_stop(void **state)
{
    struct itest_fixture *f = *state;
    struct wifiprov_wifi_status st;

    itest_daemon_start(&f->d, sec0_args, NULL);
    connect_client(&f->a, &f->d, WIFIPROV_SECURITY_0);
    itest_provision(&f->a, "CoffeeShop", "");
    itest_wait_status(&f->a, &st);
    assert_int_equal(st.state, WIFIPROV_STA_STATE_CONNECTED);
    assert_true(itest_daemon_wait(&f->d, 10000));
    assert_int_equal(f->d.exit_status, 0);
    assert_true(itest_log_contains(&f->d, "Provisioning end"));
}

/* A stored network: "Already provisioned", reconnect, idle; SIGUSR1 provisions again. */
static void restart_stored(void **state)
{
    struct itest_fixture *f = *state;
    struct wifiprov_wifi_status st;

    itest_daemon_start(&f->d, sec0_args, NULL);
    connect_client(&f->a, &f->d, WIFIPROV_SECURITY_0);
    itest_provision(&f->a, "HomeNetwork", "correct-horse");
    itest_wait_status(&f->a, &st);
    assert_int_equal(st.state, WIFIPROV_STA_STATE_CONNECTED);
    assert_true(itest_daemon_wait(&f->d, 10000));
    assert_int_equal(f->d.exit_status, 0);
    itest_client_close(&f->a);

    itest_daemon_start(&f->d, sec0_args, "Idle; send SIGUSR1");
    assert_true(itest_log_contains(&f->d, "Already provisioned, starting Wi-Fi STA"));
    assert_true(itest_log_wait(&f->d, "Connected with IP Address:192.168.1.42", 5000));
    assert_false(itest_log_contains(&f->d, "Provisioning started"));
    kill(f->d.pid, SIGUSR1);
    assert_true(itest_log_wait(&f->d, "Provisioning started with service name", 5000));
    f->d.port = 0;
    {
        /* The port was picked anew: read it from the log again. */
        char *log;
        size_t len;
        const char *p;
        log = test_read_file(f->d.log, &len);
        p = strstr(log, "HTTP transport listening on 127.0.0.1:");
        assert_non_null(p);
        f->d.port = (unsigned)strtoul(p + strlen("HTTP transport listening on 127.0.0.1:"), NULL, 10);
        snprintf(f->d.url, sizeof(f->d.url), "http://127.0.0.1:%u", f->d.port);
        free(log);
    }
    connect_client(&f->a, &f->d, WIFIPROV_SECURITY_0);
    itest_provision(&f->a, "Garden", "green-grass");
    itest_wait_status(&f->a, &st);
    assert_int_equal(st.state, WIFIPROV_STA_STATE_CONNECTED);
    /* Back to idle after provisioning (it was started idle), still answering signals. */
    assert_true(itest_log_wait(&f->d, "Provisioning service stopped; send SIGUSR1", 10000));
    {
        /* Provisioning ended: the transport is down, nothing answers on its port any more. */
        struct sockaddr_in a;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        memset(&a, 0, sizeof(a));
        a.sin_family = AF_INET;
        a.sin_port = htons((uint16_t)f->d.port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_not_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
        close(fd);
    }
    itest_daemon_stop(&f->d);
    state_file_checks(&f->d, "47617264656e", true);

    /* --reprovision ignores the stored network. */
    {
        const char *args[] = {"--security", "0", "--reprovision", NULL};
        itest_daemon_start(&f->d, args, NULL);
        assert_false(itest_log_contains(&f->d, "Already provisioned"));
        itest_daemon_stop(&f->d);
    }
}

/* A corrupt state file is moved aside and the device provisions. */
static void corrupt_state(void **state)
{
    struct itest_fixture *f = *state;
    char path[PATH_MAX + 32];
    struct stat sb;
    FILE *fp;

    mkdir(f->d.state, 0700);
    snprintf(path, sizeof(path), "%s/state.json", f->d.state);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("{\"version\": 1, \"backend\": \"sim\", \"ssid_h", fp); /* truncated */
    fclose(fp);
    itest_daemon_start(&f->d, sec0_args, NULL);
    assert_true(itest_log_contains(&f->d, "is corrupt"));
    assert_true(itest_log_contains(&f->d, "state.json.bad"));
    snprintf(path, sizeof(path), "%s/state.json.bad", f->d.state);
    assert_int_equal(stat(path, &sb), 0);
    snprintf(path, sizeof(path), "%s/state.json", f->d.state);
    assert_int_not_equal(stat(path, &sb), 0);
    itest_daemon_stop(&f->d);
}

/* Two clients: A's handshake is interrupted by B's whole handshake, then both work. */
static void interleave_hook(struct itest_client *c, const char *endpoint, void *ctx)
{
    struct itest_client *b = ctx;

    if (strcmp(endpoint, WIFIPROV_EP_SESSION) != 0 || c->after_xfer == NULL)
        return;
    c->after_xfer = NULL; /* once, right after A's Cmd0/Resp0 */
    assert_int_equal(wifiprov_client_handshake(b->wc), 0);
}

static void two_clients(void **state)
{
    struct itest_fixture *f = *state;
    struct wifiprov_wifi_status st;
    uint8_t resp[64];
    size_t len;

    itest_daemon_start(&f->d, sec2_args, NULL);
    itest_client_open(&f->a, &f->d);
    itest_client_open(&f->b, &f->d);
    itest_client_session(&f->a, WIFIPROV_SECURITY_2, NULL, SEC2_USER, SEC2_PASS);
    itest_client_session(&f->b, WIFIPROV_SECURITY_2, NULL, SEC2_USER, SEC2_PASS);
    f->a.after_xfer = interleave_hook;
    f->a.after_ctx = &f->b;
    assert_int_equal(wifiprov_client_handshake(f->a.wc), 0);
    assert_null(f->a.after_xfer); /* the hook ran */
    assert_string_not_equal(f->a.cookie, "");
    assert_string_not_equal(f->a.cookie, f->b.cookie);
    assert_true(wifiprov_client_established(f->b.wc));
    for (int i = 0; i < 3; i++) {
        assert_int_equal(wifiprov_client_get_status(f->a.wc, &st), 0);
        assert_int_equal(wifiprov_client_request(f->b.wc, "custom-data", (const uint8_t *)"b", 1, resp,
                                                 sizeof(resp), &len),
                         0);
        assert_int_equal(wifiprov_client_request(f->a.wc, "custom-data", (const uint8_t *)"a", 1, resp,
                                                 sizeof(resp), &len),
                         0);
        assert_int_equal(wifiprov_client_get_status(f->b.wc, &st), 0);
    }
    itest_daemon_stop(&f->d);
}

/* Two clients stage different credentials: each Apply applies its own session's (not the last staged). */
static void two_clients_staging(void **state)
{
    struct itest_fixture *f = *state;
    struct wifiprov_wifi_status st;
    int status = -1;

    itest_daemon_start(&f->d, sec2_args, NULL);
    connect_client(&f->a, &f->d, WIFIPROV_SECURITY_2);
    connect_client(&f->b, &f->d, WIFIPROV_SECURITY_2);
    itest_set_config(&f->a, "HomeNetwork", "correct-horse");
    itest_set_config(&f->b, "Garden", "wrong-grass");
    assert_int_equal(wifiprov_client_apply_config(f->a.wc, &status), 0);
    itest_wait_status(&f->a, &st);
    assert_int_equal(st.state, WIFIPROV_STA_STATE_CONNECTED);
    assert_int_equal(st.ssid_len, 11);
    assert_memory_equal(st.ssid, "HomeNetwork", 11);
    assert_true(itest_log_contains(&f->d, "credentials received for SSID \"HomeNetwork\""));
    assert_false(itest_log_contains(&f->d, "credentials received for SSID \"Garden\""));
    /* B sees the outcome; its own Apply is refused (one per run). */
    assert_int_equal(wifiprov_client_get_status(f->b.wc, &st), 0);
    assert_int_equal(st.state, WIFIPROV_STA_STATE_CONNECTED);
    assert_int_equal(wifiprov_client_apply_config(f->b.wc, &status), WIFIPROV_ERR_DEVICE);
    itest_daemon_stop(&f->d);
}

/* A client without cookies stays on its connection's session (§7.1 rule 2). */
static void no_cookie_connection(void **state)
{
    struct itest_fixture *f = *state;
    struct wifiprov_wifi_status st;

    itest_daemon_start(&f->d, sec1_args, NULL);
    itest_client_open(&f->a, &f->d);
    f->a.no_cookie = true;
    itest_client_session(&f->a, WIFIPROV_SECURITY_1, SEC1_POP, NULL, NULL);
    assert_int_equal(wifiprov_client_handshake(f->a.wc), 0);
    assert_int_equal(wifiprov_client_get_status(f->a.wc, &st), 0);
    assert_int_equal(wifiprov_client_get_status(f->a.wc, &st), 0);
    itest_daemon_stop(&f->d);
}

static size_t raw_post_timeout(const struct itest_daemon *d, const char *path, const char *extra_headers,
                               const void *body, size_t body_len, size_t announced, bool close_early, char *resp,
                               size_t cap, int timeout_ms)
{
    char *req = malloc(8192);
    int n;
    size_t got;

    assert_non_null(req);
    n = snprintf(req, 8192, "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%sContent-Length: %zu\r\n\r\n",
                 path, extra_headers, announced);
    assert_true(n > 0 && (size_t)n + body_len < 8192);
    memcpy(req + n, body, body_len);
    got = itest_raw(d, req, (size_t)n + body_len, close_early, resp, cap, timeout_ms);
    free(req);
    return got;
}

static size_t raw_post(const struct itest_daemon *d, const char *path, const char *extra_headers, const void *body,
                       size_t body_len, size_t announced, bool close_early, char *resp, size_t cap)
{
    return raw_post_timeout(d, path, extra_headers, body, body_len, announced, close_early, resp, cap, 5000);
}

/* Malformed input is answered without a crash and without disturbing an established session. */
static void bad_input(void **state)
{
    struct itest_fixture *f = *state;
    struct wifiprov_wifi_status st;
    char resp[4096], hdr[128];
    static uint8_t big[5000];
    size_t n;

    itest_daemon_start(&f->d, sec2_args, NULL);
    connect_client(&f->a, &f->d, WIFIPROV_SECURITY_2);
    assert_int_equal(wifiprov_client_get_status(f->a.wc, &st), 0);

    /* Garbage handshake on a new connection: closed without a response. */
    n = raw_post(&f->d, "/prov-session", "", "\xff\x01garbage", 9, 9, false, resp, sizeof(resp));
    assert_int_equal(n, 0);
    /* Garbage to an encrypted endpoint with A's cookie: dropped; A's session is untouched (GCM). */
    snprintf(hdr, sizeof(hdr), "Cookie: %s\r\n", f->a.cookie);
    n = raw_post(&f->d, "/prov-config", hdr, "0123456789abcdef0123", 20, 20, false, resp, sizeof(resp));
    assert_int_equal(n, 0);
    /* Truncated: Content-Length larger than what is sent, then the client closes (at once, and after a
     * half-close: no response either way). */
    n = raw_post_timeout(&f->d, "/proto-ver", "", "abc", 3, 100, false, resp, sizeof(resp), 0);
    assert_int_equal(n, 0);
    n = raw_post_timeout(&f->d, "/proto-ver", "", "abc", 3, 100, true, resp, sizeof(resp), 500);
    assert_int_equal(n, 0);
    /* Oversized (5000 bytes) and empty bodies. */
    memset(big, 'x', sizeof(big));
    n = raw_post(&f->d, "/proto-ver", "", big, sizeof(big), sizeof(big), false, resp, sizeof(resp));
    assert_int_equal(n, 0);
    n = raw_post(&f->d, "/proto-ver", "", "", 0, 0, false, resp, sizeof(resp));
    assert_int_equal(n, 0);
    /* Chunked bodies are not accepted. */
    {
        static const char chunked[] = "POST /proto-ver HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                                      "Transfer-Encoding: chunked\r\n\r\n3\r\n---\r\n0\r\n\r\n";
        n = itest_raw(&f->d, chunked, sizeof(chunked) - 1, false, resp, sizeof(resp), 5000);
        assert_int_equal(n, 0);
    }
    /* No Content-Length at all. */
    {
        static const char nolen[] = "POST /proto-ver HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        n = itest_raw(&f->d, nolen, sizeof(nolen) - 1, false, resp, sizeof(resp), 5000);
        assert_int_equal(n, 0);
    }
    /* Unknown endpoint: 404; another method: 405. */
    n = raw_post(&f->d, "/no-such-endpoint", "", "x", 1, 1, false, resp, sizeof(resp));
    assert_true(n > 0);
    assert_non_null(strstr(resp, "HTTP/1.1 404"));
    {
        static const char get[] = "GET /prov-session HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        n = itest_raw(&f->d, get, sizeof(get) - 1, false, resp, sizeof(resp), 5000);
        assert_non_null(strstr(resp, "HTTP/1.1 405"));
    }
    /* Stale and forged cookies: proto-ver is answered without making a session (only prov-session
     * makes one), other endpoints are refused; A's session is not touched. */
    {
        static const char *const cookies[] = {"Cookie: session=12345\r\n", "Cookie: session=abc\r\n",
                                              "Cookie: session=99999999999\r\n", "Cookie: =;;;session\r\n"};
        for (size_t i = 0; i < sizeof(cookies) / sizeof(cookies[0]); i++) {
            n = raw_post(&f->d, "/proto-ver", cookies[i], "---", 3, 3, false, resp, sizeof(resp));
            assert_non_null(strstr(resp, "HTTP/1.1 200"));
            assert_null(strstr(resp, "Set-Cookie"));
            n = raw_post(&f->d, "/prov-scan", cookies[i], "---", 3, 3, false, resp, sizeof(resp));
            assert_int_equal(n, 0);
        }
    }
    /* After all this, A's established session still works. */
    assert_int_equal(wifiprov_client_get_status(f->a.wc, &st), 0);
    assert_int_equal(wifiprov_client_get_status(f->a.wc, &st), 0);
    itest_daemon_stop(&f->d);
}

static void captive_probes(void **state)
{
    static const struct {
        const char *path, *status, *body;
    } probes[] = {
        {"/generate_204", "HTTP/1.1 204", NULL},
        {"/hotspot-detect.html", "HTTP/1.1 200", "Success"},
        {"/library/test/success.html", "HTTP/1.1 200", "Success"},
        {"/connecttest.txt", "HTTP/1.1 200", "Microsoft Connect Test"},
        {"/ncsi.txt", "HTTP/1.1 200", "Microsoft NCSI"},
        {"/canonical.html", "HTTP/1.1 200", "OK"},
        {"/success.txt", "HTTP/1.1 200", "success"},
        {"/favicon.ico", "HTTP/1.1 404", NULL},
    };
    struct itest_fixture *f = *state;
    char req[256], resp[2048];

    itest_daemon_start(&f->d, sec0_args, NULL);
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", probes[i].path);
        itest_raw(&f->d, req, (size_t)n, false, resp, sizeof(resp), 5000);
        assert_non_null(strstr(resp, probes[i].status));
        if (probes[i].body)
            assert_non_null(strstr(strstr(resp, "\r\n\r\n"), probes[i].body));
    }
    itest_daemon_stop(&f->d);
}

static int run_daemon(struct itest_fixture *f, const char *const *args, const char *err_path);

/* The provisioning page: GET / with its security headers, the probes lead to it, HEAD works;
 * --no-web-ui (the fixture's file says web-ui = false) keeps the probes' success answers (above). */
static void web_ui_page(void **state)
{
    struct itest_fixture *f = *state;
    char dir[PATH_MAX], file[PATH_MAX + 16], req[256], want[128], log[PATH_MAX + 32];
    static char resp[256 * 1024];
    const char *args[] = {"--security", "0", "--web-ui", "--web-ui-dir", dir, NULL};
    const char *missing_args[] = {"--security", "0", "--web-ui", "--web-ui-dir", "/nonexistent-wifiprov-web", NULL};
    char *page, *body;
    size_t page_len, n;

    snprintf(dir, sizeof(dir), "%s/web/dist", WIFIPROV_SOURCE_DIR);
    snprintf(file, sizeof(file), "%s/index.html", dir);
    page = test_read_file(file, &page_len);
    assert_non_null(page);
    itest_daemon_start(&f->d, args, NULL);
    /* Said once at start (not once per transport or restart). */
    assert_int_equal(itest_log_count(&f->d, "Provisioning page"), 1);

    n = (size_t)snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    n = itest_raw(&f->d, req, n, false, resp, sizeof(resp), 5000);
    assert_non_null(strstr(resp, "HTTP/1.1 200"));
    assert_non_null(strstr(resp, "Content-Type: text/html; charset=utf-8\r\n"));
    assert_non_null(strstr(resp, "Cache-Control: no-store\r\n"));
    assert_non_null(strstr(resp, "X-Content-Type-Options: nosniff\r\n"));
    assert_non_null(strstr(resp, "Content-Security-Policy: default-src 'none'; script-src 'sha256-"));
    assert_non_null(strstr(resp, "connect-src 'self'"));
    assert_null(strstr(resp, "unsafe-inline"));
    body = strstr(resp, "\r\n\r\n");
    assert_non_null(body);
    body += 4;
    assert_int_equal(n - (size_t)(body - resp), page_len);
    assert_memory_equal(body, page, page_len);

    n = (size_t)snprintf(req, sizeof(req), "GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    itest_raw(&f->d, req, n, false, resp, sizeof(resp), 5000);
    assert_non_null(strstr(resp, "HTTP/1.1 200"));

    /* Every probe of a portal check is sent to the page on the address the client reached. */
    snprintf(want, sizeof(want), "Location: http://127.0.0.1:%u/\r\n", f->d.port);
    for (size_t i = 0; i < 3; i++) {
        static const char *const paths[] = {"/generate_204", "/hotspot-detect.html", "/connecttest.txt"};
        n = (size_t)snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: probe.example\r\nConnection: close\r\n\r\n",
                             paths[i]);
        itest_raw(&f->d, req, n, false, resp, sizeof(resp), 5000);
        assert_non_null(strstr(resp, "HTTP/1.1 302"));
        assert_non_null(strstr(resp, want));
    }
    /* Unknown paths and the endpoints keep their ESP-IDF answers. */
    n = (size_t)snprintf(req, sizeof(req), "GET /favicon.ico HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    itest_raw(&f->d, req, n, false, resp, sizeof(resp), 5000);
    assert_non_null(strstr(resp, "HTTP/1.1 404"));
    n = (size_t)snprintf(req, sizeof(req), "GET /proto-ver HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    itest_raw(&f->d, req, n, false, resp, sizeof(resp), 5000);
    assert_non_null(strstr(resp, "HTTP/1.1 405"));
    itest_daemon_stop(&f->d);
    free(page);

    /* --no-web-ui wins over a page directory: GET / is 404 again and the probes say "success". */
    {
        const char *off_args[] = {"--security", "0", "--web-ui-dir", dir, "--no-web-ui", NULL};

        itest_daemon_start(&f->d, off_args, NULL);
        n = (size_t)snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        itest_raw(&f->d, req, n, false, resp, sizeof(resp), 5000);
        assert_non_null(strstr(resp, "HTTP/1.1 404"));
        n = (size_t)snprintf(req, sizeof(req), "GET /generate_204 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        itest_raw(&f->d, req, n, false, resp, sizeof(resp), 5000);
        assert_non_null(strstr(resp, "HTTP/1.1 204"));
        itest_daemon_stop(&f->d);
    }

    /* A named page that cannot be read stops the start, saying why. */
    snprintf(log, sizeof(log), "%s/missing.log", f->d.dir);
    assert_int_equal(run_daemon(f, missing_args, log), 1);
    page = test_read_file(log, &page_len);
    assert_non_null(page);
    assert_non_null(strstr(page, "/nonexistent-wifiprov-web/index.html"));
    assert_non_null(strstr(page, "--no-web-ui"));
    free(page);

    /* --qr-url: the QR code opens the page with the PoP in the fragment (percent-encoded). */
    {
        const char *qr_args[] = {"--security", "1", "--pop", "ab cd&1", "--qr-url", "http://192.168.4.1/", "--qr-stdout",
                                 NULL};
        const char *bad_args[] = {"--security", "0", "--qr-url", "192.168.4.1", NULL};

        uint64_t end;

        itest_daemon_start(&f->d, qr_args, NULL);
        /* The code is printed just after the "started" line the start waits for. */
        for (end = itest_now_ms() + 5000;; usleep(20000)) {
            page = test_read_file(f->d.out, &page_len);
            if ((page && strstr(page, "phone's camera") && strstr(page, "#pop=")) || itest_now_ms() > end)
                break;
            free(page);
        }
        assert_non_null(page);
        assert_non_null(strstr(page, "http://192.168.4.1/#pop=ab%20cd%261\n"));
        assert_non_null(strstr(page, "phone's camera"));
        free(page);
        itest_daemon_stop(&f->d);
        assert_int_equal(run_daemon(f, bad_args, NULL), 2);
    }
}

/* QR code: terminal, PNG and SVG; security-2 development mode puts user and password in it. */
static void qr_outputs(void **state)
{
    struct itest_fixture *f = *state;
    char png[PATH_MAX + 32], svg[PATH_MAX + 32];
    const char *args[] = {"--security",     "2",           "--sec2-username", SEC2_USER, "--sec2-password", SEC2_PASS,
                          "--service-name", "PROV_TEST01", "--qr-png",        png,       "--qr-svg",        svg,
                          "--qr-stdout",    NULL};
    char *text;
    size_t len;

    snprintf(png, sizeof(png), "%s/qr.png", f->d.dir);
    snprintf(svg, sizeof(svg), "%s/qr.svg", f->d.dir);
    itest_daemon_start(&f->d, args, NULL);
    assert_true(itest_log_wait(&f->d, "QR code written to", 5000));
    itest_daemon_stop(&f->d);
    text = test_read_file(f->d.out, &len);
    assert_non_null(strstr(text, "{\"ver\":\"v1\",\"name\":\"PROV_TEST01\",\"username\":\"wifiprov\",\"pop\":\"abcd1234\","
                                 "\"transport\":\"softap\"}"));
    assert_non_null(strstr(text, "If QR code is not visible, copy paste the below URL in a browser.\n"
                                 "https://espressif.github.io/esp-jumpstart/qrcode.html?data={\"ver\":\"v1\""));
    assert_non_null(strstr(text, "\u2588"));
    free(text);
    text = test_read_file(png, &len);
    assert_true(len > 8);
    assert_memory_equal(text, "\x89PNG\r\n\x1a\n", 8);
    free(text);
    text = test_read_file(svg, &len);
    assert_non_null(strstr(text, "<svg"));
    assert_non_null(strstr(text, "</svg>"));
    free(text);
    assert_true(itest_log_contains(&f->d, "development mode"));
    assert_false(itest_log_contains(&f->d, SEC2_PASS));
}

/* IPv6: --listen [::1]:0 (skipped when the machine has no IPv6 loopback). */
static void ipv6_listen(void **state)
{
    static const char key[] = "HTTP transport listening on [::1]:";
    struct itest_fixture *f = *state;
    const char *args[] = {"--security", "1", "--pop", SEC1_POP, "--listen", "[::1]:0", NULL};
    struct sockaddr_in6 a6;
    struct wifiprov_wifi_status st;
    char *log;
    const char *p;
    size_t len;
    int fd = socket(AF_INET6, SOCK_STREAM, 0);

    memset(&a6, 0, sizeof(a6));
    a6.sin6_family = AF_INET6;
    a6.sin6_addr = in6addr_loopback;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a6, sizeof(a6)) < 0) {
        if (fd >= 0)
            close(fd);
        skip();
    }
    close(fd);
    itest_daemon_start(&f->d, args, NULL);
    log = test_read_file(f->d.log, &len);
    p = strstr(log, key);
    assert_non_null(p);
    snprintf(f->d.url, sizeof(f->d.url), "http://[::1]:%lu", strtoul(p + sizeof(key) - 1, NULL, 10));
    free(log);
    connect_client(&f->a, &f->d, WIFIPROV_SECURITY_1);
    assert_int_equal(wifiprov_client_get_status(f->a.wc, &st), 0);
    itest_daemon_stop(&f->d);
}

/* --max-sessions 2: a third client evicts the least recently used session; --session-timeout expires. */
static void session_limits(void **state)
{
    struct itest_fixture *f = *state;
    const char *args[] = {"--security", "2", "--sec2-username", SEC2_USER, "--sec2-password", SEC2_PASS,
                          "--max-sessions", "2", "--session-timeout", "1", NULL};
    struct itest_client c;
    struct wifiprov_wifi_status st;

    memset(&c, 0, sizeof(c));
    itest_daemon_start(&f->d, args, NULL);
    connect_client(&f->a, &f->d, WIFIPROV_SECURITY_2);
    connect_client(&f->b, &f->d, WIFIPROV_SECURITY_2);
    /* Both sessions are established: a third client is refused, nobody is evicted. */
    itest_client_open(&c, &f->d);
    itest_client_session(&c, WIFIPROV_SECURITY_2, NULL, SEC2_USER, SEC2_PASS);
    assert_int_equal(wifiprov_client_handshake(c.wc), WIFIPROV_ERR_TRANSPORT);
    assert_true(itest_log_wait(&f->d, "every session is established or busy", 5000));
    assert_int_equal(wifiprov_client_get_status(f->a.wc, &st), 0);
    assert_int_equal(wifiprov_client_get_status(f->b.wc, &st), 0);
    /* Unused for more than a second: expired; a new handshake works again. */
    usleep(1600 * 1000);
    assert_int_not_equal(wifiprov_client_get_status(f->a.wc, &st), 0);
    itest_client_close(&c);
    itest_client_close(&f->a);
    connect_client(&f->a, &f->d, WIFIPROV_SECURITY_2);
    assert_int_equal(wifiprov_client_get_status(f->a.wc, &st), 0);
    itest_daemon_stop(&f->d);
}

static int tcp_connect(unsigned port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

/* A security-0 handshake on the raw connection @p fd (PROTOCOL.md §5.1 bytes). */
static void raw_sec0_session(int fd)
{
    static const char req[] = "POST /prov-session HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n\x52\x03\xa2\x01";
    char resp[1024];

    /* sizeof counts the NUL, which stands for the final 0x00 byte of the body. */
    assert_int_equal(send(fd, req, sizeof(req), MSG_NOSIGNAL), (ssize_t)sizeof(req));
    assert_true(itest_read_response(fd, resp, sizeof(resp), 5000) > 0);
    assert_non_null(strstr(resp, "HTTP/1.1 200"));
    assert_non_null(strstr(resp, "Set-Cookie: session="));
}

/* Bytes until EOF within @p timeout_ms: -1 when the connection is still open then. */
static int wait_closed(int fd, int timeout_ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    char buf[256];

    if (poll(&p, 1, timeout_ms) <= 0)
        return -1;
    return (int)recv(fd, buf, sizeof(buf), 0);
}

/* --max-connections and --connection-timeout. */
static void connection_limits(void **state)
{
    struct itest_fixture *f = *state;
    const char *args[] = {"--security", "0", "--max-connections", "2", "--connection-timeout", "1", NULL};
    static const char probe[] = "POST /proto-ver HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n---";
    struct wifiprov_wifi_status st;
    int c1, c2, c3;
    uint64_t t0;

    itest_daemon_start(&f->d, args, NULL);
    c1 = tcp_connect(f->d.port);
    c2 = tcp_connect(f->d.port);
    usleep(100 * 1000);
    /* The third connection is over the limit: libmicrohttpd leaves it in the backlog, unserved. */
    c3 = tcp_connect(f->d.port);
    assert_int_equal(send(c3, probe, sizeof(probe) - 1, MSG_NOSIGNAL), (ssize_t)(sizeof(probe) - 1));
    assert_int_equal(wait_closed(c3, 500), -1);
    /* Idle connections are closed after about a second... */
    t0 = itest_now_ms();
    assert_int_equal(wait_closed(c1, 5000), 0);
    assert_true(itest_now_ms() - t0 < 4000);
    assert_int_equal(wait_closed(c2, 5000), 0);
    close(c1);
    close(c2);
    /* ...which makes room for the waiting one. */
    {
        struct pollfd p = {c3, POLLIN, 0};
        char buf[512];
        ssize_t n;
        assert_int_equal(poll(&p, 1, 5000), 1);
        n = recv(c3, buf, sizeof(buf) - 1, 0);
        assert_true(n > 0);
        buf[n] = '\0';
        assert_non_null(strstr(buf, "HTTP/1.1 200"));
    }
    close(c3);
    /* Room again: a client works. */
    connect_client(&f->a, &f->d, WIFIPROV_SECURITY_0);
    assert_int_equal(wifiprov_client_get_status(f->a.wc, &st), 0);
    itest_daemon_stop(&f->d);
}

/* --help and --version exit 0 without starting anything. */
static void help_version(void **state)
{
    struct itest_fixture *f = *state;
    static const char *const opts[] = {"--help", "--version"};

    for (size_t i = 0; i < 2; i++) {
        char out[PATH_MAX + 32], *text;
        size_t len;
        pid_t pid;

        snprintf(out, sizeof(out), "%s/help.txt", f->d.dir);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            dup2(fd, 1);
            execl(WIFIPROVD_PATH, WIFIPROVD_PATH, opts[i], (char *)NULL);
            _exit(127);
        }
        f->d.pid = pid;
        assert_true(itest_daemon_wait(&f->d, 10000));
        assert_int_equal(f->d.exit_status, 0);
        text = test_read_file(out, &len);
        if (i == 0) {
            /* Every option is explained. */
            static const char *const names[] = {"--config", "--transport", "--listen", "--security", "--pop",
                                                "--sec2-username", "--sec2-password", "--sec2-verifier-file",
                                                "--service-name", "--wifi", "--sim-config", "--state-dir",
                                                "--auto-stop", "--connect-attempts", "--custom-data-command",
                                                "--reprovision", "--qr-png", "--qr-svg", "--max-sessions",
                                                "--verbose", "--version", "--help"};
            for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
                assert_non_null(strstr(text, names[k]));
        } else {
            assert_non_null(strstr(text, "wifiprovd " WIFIPROV_VERSION_STRING));
        }
        free(text);
    }
}

/* Runs wifiprovd with the fixture's config plus @p args (NULL-terminated), stderr to @p err_path;
 * @return its exit status. */
static int run_daemon(struct itest_fixture *f, const char *const *args, const char *err_path)
{
    char conf[PATH_MAX + 32];
    const char *argv[16];
    size_t n = 0;
    pid_t pid;

    snprintf(conf, sizeof(conf), "%s/wifiprovd.conf", f->d.dir);
    argv[n++] = WIFIPROVD_PATH;
    argv[n++] = "--config";
    argv[n++] = conf;
    for (size_t k = 0; args[k]; k++) {
        assert_true(n < 15);
        argv[n++] = args[k];
    }
    argv[n] = NULL;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        int err = err_path ? open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644) : null;
        dup2(null, 1);
        dup2(err, 2);
        execv(WIFIPROVD_PATH, (char *const *)argv);
        _exit(127);
    }
    f->d.pid = pid;
    assert_true(itest_daemon_wait(&f->d, 10000));
    return f->d.exit_status;
}

/*
 * wpa_supplicant not running yet at start (a boot race) is no configuration error: the daemon
 * says it waits, and goes on once the control socket appears (the scripted supplicant of the
 * backend tests, started a moment later).
 */
static void service_wait(void **state)
{
    struct itest_fixture *f = *state;
    char ctrl[PATH_MAX + 32];
    const char *args[] = {"--security", "0", "--wifi", "wpa_supplicant", "--wpa-ctrl-dir", ctrl, NULL};
    pid_t fake;

    snprintf(ctrl, sizeof(ctrl), "%s/ctrl", f->d.dir);
    assert_int_equal(mkdir(ctrl, 0700), 0);
    itest_daemon_start(&f->d, args, "Waiting for a wpa_supplicant control socket in");
    /* Still waiting a while later: not exited, no backend yet. */
    assert_false(itest_log_wait(&f->d, "wpa_supplicant: using", 1500));
    assert_false(itest_daemon_wait(&f->d, 0));
    fake = fork();
    assert_true(fake >= 0);
    if (fake == 0) {
        int null = open("/dev/null", O_WRONLY);

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(null, 1);
        execl("/usr/bin/python3", "python3", WIFIPROV_SOURCE_DIR "/tests/radiolab/fake_wpa.py", ctrl, (char *)NULL);
        _exit(127);
    }
    assert_true(itest_log_wait(&f->d, "the wpa_supplicant control socket appeared", 10000));
    assert_true(itest_log_wait(&f->d, "wpa_supplicant: using", 5000));
    assert_true(itest_log_wait(&f->d, "Provisioning started with service name", 5000));
    itest_daemon_stop(&f->d);
    kill(fake, SIGTERM);
    waitpid(fake, NULL, 0);
}

/* The PoP of the daemon's command line, as ps would show it (NUL bytes as spaces). */
static char *cmdline_of(pid_t pid)
{
    char path[64];
    char *text = calloc(1, 8192);
    size_t len = 0;
    FILE *fp;

    assert_non_null(text);
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    fp = fopen(path, "r");
    assert_non_null(fp);
    len = fread(text, 1, 8191, fp);
    fclose(fp);
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\0')
            text[i] = ' ';
    return text;
}

/*
 * Secrets: --pop and --sec2-password are wiped from argv; the QR payload (which holds them) is
 * not printed when stdout is no terminal (a journal); QR images are 0600 also when the file
 * existed with a wider mode; --pop-file works.
 */
static void secrets_hidden(void **state)
{
    struct itest_fixture *f = *state;
    char png[PATH_MAX + 32], popfile[PATH_MAX + 32];
    const char *sec1[] = {"--security", "1", "--pop", "sekrit-pop-4711", "--qr-png", png, NULL};
    const char *sec2[] = {"--security", "2", "--sec2-username", SEC2_USER, "--sec2-password", "pw-sekrit-0815", NULL};
    const char *fromfile[] = {"--security", "1", "--pop-file", popfile, NULL};
    struct stat sb;
    char *text;
    size_t len;
    FILE *fp;

    snprintf(png, sizeof(png), "%s/qr.png", f->d.dir);
    fp = fopen(png, "w");
    assert_non_null(fp);
    fclose(fp);
    chmod(png, 0644);
    itest_daemon_start(&f->d, sec1, NULL);
    assert_true(itest_log_wait(&f->d, "QR code written to", 5000));
    text = cmdline_of(f->d.pid);
    assert_null(strstr(text, "sekrit-pop-4711"));
    assert_non_null(strstr(text, "--pop"));
    free(text);
    assert_true(itest_log_contains(&f->d, "QR code not printed: standard output is not a terminal"));
    itest_daemon_stop(&f->d);
    text = test_read_file(f->d.out, &len);
    assert_null(strstr(text, "sekrit-pop-4711"));
    free(text);
    assert_false(itest_log_contains(&f->d, "sekrit-pop-4711"));
    assert_int_equal(stat(png, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);

    itest_daemon_start(&f->d, sec2, NULL);
    text = cmdline_of(f->d.pid);
    assert_null(strstr(text, "pw-sekrit-0815"));
    free(text);
    itest_daemon_stop(&f->d);

    snprintf(popfile, sizeof(popfile), "%s/pop", f->d.dir);
    fp = fopen(popfile, "w");
    assert_non_null(fp);
    fputs(SEC1_POP "\n", fp);
    fclose(fp);
    chmod(popfile, 0600);
    itest_daemon_start(&f->d, fromfile, NULL);
    connect_client(&f->a, &f->d, WIFIPROV_SECURITY_1);
    assert_true(itest_log_wait(&f->d, "Secured session established!", 5000));
    assert_false(itest_log_contains(&f->d, SEC1_POP));
    itest_daemon_stop(&f->d);
}

/* A client's SSID reaches the log escaped: it cannot forge or split log lines. */
static void log_escape(void **state)
{
    struct itest_fixture *f = *state;
    const char *args[] = {"--security", "0", "--connect-attempts", "1", NULL};
    static const char evil[] = "x\nI (0) wifiprovd: PWNED\x1b[2J"; /* 28 bytes */
    struct wifiprov_wifi_status st;
    char *text;
    size_t len;

    itest_daemon_start(&f->d, args, NULL);
    connect_client(&f->a, &f->d, WIFIPROV_SECURITY_0);
    itest_provision(&f->a, evil, "whatever-123");
    itest_wait_status(&f->a, &st);
    assert_int_equal(st.state, WIFIPROV_STA_STATE_FAILED);
    assert_true(itest_log_wait(&f->d, "x\\x0aI (0) wifiprovd: PWNED\\x1b[2J", 5000));
    itest_daemon_stop(&f->d);
    text = test_read_file(f->d.log, &len);
    assert_null(strstr(text, "\nI (0) wifiprovd: PWNED"));
    assert_null(memchr(text, 0x1b, len));
    free(text);
}

/* The store at start: temporaries of an interrupted write are removed; a timestamp out of
 * int64_t's range is ignored, not converted (undefined behaviour). */
static void store_leftovers(void **state)
{
    struct itest_fixture *f = *state;
    char path[PATH_MAX + 32];
    struct stat sb;
    FILE *fp;

    mkdir(f->d.state, 0700);
    snprintf(path, sizeof(path), "%s/.state.json.Ab12Cd", f->d.state);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("{\"version\": 1", fp);
    fclose(fp);
    snprintf(path, sizeof(path), "%s/state.json", f->d.state);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("{\"version\": 1, \"backend\": \"sim\", \"ssid_hex\": \"486f6d654e6574776f726b\", "
          "\"passphrase_hex\": \"636f72726563742d686f727365\", \"timestamp\": 1e300}",
          fp);
    fclose(fp);
    itest_daemon_start(&f->d, sec0_args, "Idle; send SIGUSR1");
    assert_true(itest_log_contains(&f->d, "left by an interrupted write"));
    snprintf(path, sizeof(path), "%s/.state.json.Ab12Cd", f->d.state);
    assert_int_not_equal(stat(path, &sb), 0);
    assert_true(itest_log_wait(&f->d, "Connected with IP Address:192.168.1.42", 5000));
    itest_daemon_stop(&f->d);
}

/* --force-insecure lets security 0 run with --auto-stop 0 (refused without it: usage_errors). */
static void force_insecure(void **state)
{
    struct itest_fixture *f = *state;
    const char *args[] = {"--security", "0", "--auto-stop", "0", "--force-insecure", NULL};

    itest_daemon_start(&f->d, args, NULL);
    itest_daemon_stop(&f->d);
}

/* Usage and configuration errors: exit status 2, nothing started. */
static void usage_errors(void **state)
{
    struct itest_fixture *f = *state;
    char missing[PATH_MAX + 32];
    const char *const bad[][6] = {
        {"--security", "5"},
        {"--security", "2"}, /* no credentials */
        {"--wifi", "bogus"},
        {"--transport", "ble", "--ble-adapter", "wlan0"},
        {"--transport", "ble", "--ble-mfg-data", "e5"},
        {"--transport", "ble", "--ble-mfg-data", "e502010203040506ff"},
        {"--transport", "ble", "--ble-service-uuid", "021a9004-0382-4aea-bff4"},
        {"--listen", "nonsense", "--security", "0"},
        {"--no-such-option"},
        {"--security", "1", "--sec2-password", "x"},
        /* An empty PoP is refused: leave it out for a device without one. */
        {"--security", "1", "--pop", ""},
        /* SHA-512("wifiprov:pw69") starts with 0x00: refused, never run with an empty verifier. */
        {"--security", "2", "--sec2-username", "wifiprov", "--sec2-password", "pw69"},
        {"--security", "2", "--sec2-verifier-file", missing},
        /* An unauthenticated service that never stops, without --force-insecure. */
        {"--security", "0", "--auto-stop", "0"},
        {"--security", "1", "--pop", "x", "--pop-file", missing},
        {"--security", "1", "--pop-file", missing},
        /* A bad simulator configuration is a configuration error too. */
        {"--security", "0", "--wifi", "sim", "--sim-config", missing},
    };

    snprintf(missing, sizeof(missing), "%s/no-such-file.json", f->d.dir);

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *args[7] = {0};
        int st;

        for (size_t k = 0; k < 6 && bad[i][k]; k++)
            args[k] = bad[i][k];
        st = run_daemon(f, args, NULL);
        if (st != 2)
            fail_msg("case %zu: exit status %d, want 2", i, st);
    }
}

/* SoftAP options are checked before anything touches the system: each mistake is a usage error that says what to do. */
static void softap_options(void **state)
{
    struct itest_fixture *f = *state;
    char err[PATH_MAX + 32], pass_file[PATH_MAX + 32], empty_file[PATH_MAX + 32], missing[PATH_MAX + 32],
        long_file[PATH_MAX + 32];
    const struct {
        const char *args[6];
        const char *message;
    } bad[] = {
        {{"--softap", "--softap-passphrase", "short"}, "8..63 printable ASCII characters"},
        {{"--softap", "--softap-passphrase", "0123456789012345678901234567890123456789012345678901234567890123"},
         "8..63 printable ASCII characters"},
        {{"--softap", "--softap-passphrase", "tab\there-is-bad"}, "8..63 printable ASCII characters"},
        {{"--softap", "--softap-passphrase", "prov-pass-123", "--softap-passphrase-file", pass_file},
         "either --softap-passphrase or --softap-passphrase-file"},
        {{"--softap", "--softap-passphrase-file", missing}, "cannot read --softap-passphrase-file"},
        {{"--softap", "--softap-passphrase-file", empty_file}, "is empty"},
        /* The passphrase file gets the PoP file's checks: a regular file, a bounded first line, a warning when
         * others can read it. */
        {{"--softap", "--softap-passphrase-file", f->d.dir}, "is not a regular file"},
        {{"--softap", "--softap-passphrase-file", long_file}, "must hold the SoftAP passphrase (1..256 bytes)"},
        {{"--softap", "--softap-passphrase-file", pass_file, "--softap-channel", "20"},
         "the SoftAP passphrase file"},
        {{"--softap", "--softap-ssid", "0123456789abcdef0123456789abcdef0"}, "--softap-ssid must be 1..32 bytes"},
        {{"--softap", "--softap-channel", "20"}, "is not a Wi-Fi channel"},
        {{"--softap", "--softap-interface", "much-too-long-name"}, "--softap-interface wants"},
        {{"--softap-channel", "6"}, "--softap-* options need --softap"},
        {{"--softap-passphrase", "prov-pass-123"}, "--softap-* options need --softap"},
    };
    char *text;
    size_t len;
    FILE *fp;

    snprintf(err, sizeof(err), "%s/stderr.txt", f->d.dir);
    snprintf(pass_file, sizeof(pass_file), "%s/softap-pass", f->d.dir);
    snprintf(empty_file, sizeof(empty_file), "%s/softap-empty", f->d.dir);
    snprintf(missing, sizeof(missing), "%s/no-such-file", f->d.dir);
    snprintf(long_file, sizeof(long_file), "%s/softap-long", f->d.dir);
    fp = fopen(pass_file, "w");
    assert_non_null(fp);
    fputs("prov-pass-123\n", fp);
    fclose(fp);
    assert_int_equal(chmod(pass_file, 0644), 0);
    fp = fopen(empty_file, "w");
    assert_non_null(fp);
    fclose(fp);
    fp = fopen(long_file, "w");
    assert_non_null(fp);
    for (int i = 0; i < 300; i++)
        fputc('p', fp);
    fclose(fp);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *args[10] = {"--security", "0"};
        int st;

        for (size_t k = 0; k < 6 && bad[i].args[k]; k++)
            args[2 + k] = bad[i].args[k];
        st = run_daemon(f, args, err);
        text = test_read_file(err, &len);
        if (st != 2 || !strstr(text, bad[i].message))
            fail_msg("case %zu: exit status %d (want 2), stderr:\n%s", i, st, text);
        /* The passphrase is never echoed back. */
        if (strstr(text, "prov-pass-123"))
            fail_msg("case %zu: the passphrase is in the message:\n%s", i, text);
        free(text);
    }
}

/* --transport takes a list of known names, each once; a transport that cannot start is a failure (exit 1). */
static void transport_list(void **state)
{
    struct itest_fixture *f = *state;
    static const struct {
        const char *list;
        const char *message;
    } bad[] = {
        {"bogus", "unknown transport 'bogus' in --transport 'bogus' (valid: http, ble, http,ble)"},
        {"http,http", "transport 'http' is given twice"},
        {"ble, ble", "transport 'ble' is given twice"},
        {"http,", "unknown transport '' in --transport 'http,'"},
        {"http;ble", "unknown transport 'http;ble'"},
        {"", "unknown transport ''"},
    };
    char err[PATH_MAX + 32], listen_arg[64];
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    char *text;
    size_t len;
    int fd, one = 1;

    snprintf(err, sizeof(err), "%s/stderr.txt", f->d.dir);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *args[] = {"--transport", bad[i].list, "--security", "0", NULL};
        int st = run_daemon(f, args, err);

        text = test_read_file(err, &len);
        if (st != 2 || !strstr(text, bad[i].message))
            fail_msg("--transport '%s': exit status %d, stderr:\n%s", bad[i].list, st, text);
        free(text);
    }

    /* The only transport cannot listen (the port is taken): exit status 1, and the log says why. */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 1), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    snprintf(listen_arg, sizeof(listen_arg), "127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
    {
        const char *args[] = {"--transport", " http ", "--listen", listen_arg, "--security", "0", NULL};
        int st = run_daemon(f, args, err);

        text = test_read_file(err, &len);
        if (st != 1 || !strstr(text, "Cannot start the HTTP transport on"))
            fail_msg("listen address in use: exit status %d, stderr:\n%s", st, text);
        free(text);
    }
    close(fd);
}

/*
 * BLE where it cannot work: no system bus, then a bus without bluetoothd. Alone it is
 * a failure (exit 1) that says what to do; beside HTTP, HTTP serves and the log says
 * BLE is down. (BLE itself is tested against the real bluetoothd in the radio lab.)
 */
static void ble_unavailable(void **state)
{
    struct itest_fixture *f = *state;
    char err[PATH_MAX + 32], cmd[3 * PATH_MAX], addr[PATH_MAX + 32], pidfile[PATH_MAX + 32];
    const char *ble_only[] = {"--transport", "ble", "--security", "0", NULL};
    char *text = NULL;
    size_t len;
    FILE *pf;
    int st, dbus_pid = 0;

    snprintf(err, sizeof(err), "%s/stderr.txt", f->d.dir);
    setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/wifiprov-test-bus", 1);
    st = run_daemon(f, ble_only, err);
    text = test_read_file(err, &len);
    if (st != 1 || !strstr(text, "cannot connect to the D-Bus system bus"))
        fail_msg("no system bus: exit status %d, stderr:\n%s", st, text);
    free(text);

    /* A bus of our own where nobody owns org.bluez. */
    snprintf(addr, sizeof(addr), "unix:path=%s/bus", f->d.dir);
    snprintf(pidfile, sizeof(pidfile), "%s/dbus.pid", f->d.dir);
    snprintf(cmd, sizeof(cmd), "dbus-daemon --session --address=%s --fork --print-pid > %s", addr, pidfile);
    if (system(cmd) != 0)
        fail_msg("cannot start dbus-daemon (%s)", cmd);
    pf = fopen(pidfile, "r");
    assert_non_null(pf);
    assert_int_equal(fscanf(pf, "%d", &dbus_pid), 1);
    fclose(pf);
    setenv("DBUS_SYSTEM_BUS_ADDRESS", addr, 1);
    st = run_daemon(f, ble_only, err);
    text = test_read_file(err, &len);
    if (st != 1 || !strstr(text, "bluetoothd is not running") || !strstr(text, "start it"))
        fail_msg("no bluetoothd: exit status %d, stderr:\n%s", st, text);
    free(text);

    /* Beside HTTP: HTTP serves, the log says BLE is down, the QR code names the transport that serves. */
    {
        const char *both[] = {"--transport", "http,ble", "--security", "0", "--no-qr", "--qr-svg", NULL, NULL};
        char svg[PATH_MAX + 32];
        struct itest_client c;
        struct wifiprov_version_info vi;

        snprintf(svg, sizeof(svg), "%s/qr.svg", f->d.dir);
        both[6] = svg;
        itest_daemon_start(&f->d, both, NULL);
        assert_true(itest_log_contains(&f->d, "The ble transport is down"));
        assert_true(itest_log_contains(&f->d, "bluetoothd is not running"));
        itest_client_open(&c, &f->d);
        itest_client_session(&c, WIFIPROV_SECURITY_0, NULL, NULL, NULL);
        assert_int_equal(wifiprov_client_get_version(c.wc, "---", &vi, NULL, 0), 0);
        itest_client_close(&c);
        itest_daemon_stop(&f->d);
    }
    unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
    kill(dbus_pid, SIGTERM);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(sec0_success, itest_setup, itest_teardown),
        cmocka_unit_test_setup_teardown(ble_unavailable, itest_setup, itest_teardown),
        cmocka_unit_test_setup_teardown(sec1_success, itest_setup, itest_teardown),
        cmocka_unit_test_setup_teardown(sec2_success, itest_setup, itest_teardown),
        cmocka_unit_test_setup_teardown(sec2_verifier_file, itest_setup, itest_teardown),
        cmocka_unit_test_setup_teardown(scan_paging, itest_setup, itest_teardown),
        cmocka_unit_test_setup_teardown(scan_from_background, itest_setup, itest_teardown),
        cmocka_unit_test_setup_teardown(custom_data_command, itest_setup, itest_teardown),
        cmocka_unit_test_setup_teardown(custom_data_failure, itest_setup, itest_teardown),
        cmocka_unit_test_setup_teardown(wrong_pop, itest_setup, itest_teardown),
        cmocka_unit_test_setup_teardown(wrong_sec2_password, itest_setup, itest_teardown),
        cmocka_unit_test_setup_teardown(wrong_passphrase_reset, itest_setup, itest_teardown),
        cmocka_unit_test_setup_teardown(network_not_found, itest_setup, itest_teardown),
        cmocka_unit_test_setup_teardown(reprov_after_success, itest_setup, itest_teardown),
        cmocka_unit_test_setup_teardown(auto_stop, itest_setup, itest_teardown),
        cmocka_unit_test_setup_teardown(restart_stored, itest_setup, itest_teardown),
        cmocka_unit_test_setup_teardown(corrupt_state, itest_setup, itest_teardown),
        cmocka_unit_test_setup_teardown(two_clients, itest_setup, itest_teardown),
        cmocka_unit_test_setup_teardown(two_clients_staging, itest_setup, itest_teardown),
        cmocka_unit_test_setup_teardown(no_cookie_connection, itest_setup, itest_teardown),
        cmocka_unit_test_setup_teardown(bad_input, itest_setup, itest_teardown),
        cmocka_unit_test_setup_teardown(captive_probes, itest_setup, itest_teardown),
        cmocka_unit_test_setup_teardown(web_ui_page, itest_setup, itest_teardown),
        cmocka_unit_test_setup_teardown(qr_outputs, itest_setup, itest_teardown),
        cmocka_unit_test_setup_teardown(usage_errors, itest_setup, itest_teardown),
        cmocka_unit_test_setup_teardown(softap_options, itest_setup, itest_teardown),
        cmocka_unit_test_setup_teardown(transport_list, itest_setup, itest_teardown),
        cmocka_unit_test_setup_teardown(ipv6_listen, itest_setup, itest_teardown),
        cmocka_unit_test_setup_teardown(session_limits, itest_setup, itest_teardown),
        cmocka_unit_test_setup_teardown(help_version, itest_setup, itest_teardown),
        cmocka_unit_test_setup_teardown(connection_limits, itest_setup, itest_teardown),
        cmocka_unit_test_setup_teardown(service_wait, itest_setup, itest_teardown),
        cmocka_unit_test_setup_teardown(secrets_hidden, itest_setup, itest_teardown),
        cmocka_unit_test_setup_teardown(log_escape, itest_setup, itest_teardown),
        cmocka_unit_test_setup_teardown(store_leftovers, itest_setup, itest_teardown),
        cmocka_unit_test_setup_teardown(force_insecure, itest_setup, itest_teardown),
    };
    int ret;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    ret = TEST_RUN("integration", tests, argc, argv);
    curl_global_cleanup();
    return ret;
}
