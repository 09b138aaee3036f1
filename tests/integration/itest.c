/* Integration-test helpers (see itest.h). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "itest.h"
#include "testutil.h"

#ifndef WIFIPROVD_PATH
#error "WIFIPROVD_PATH must name the wifiprovd binary"
#endif

/* Five simulated networks; connections and scans take 200 ms. */
static const char networks_json[] =
    "[\n"
    "  {\"ssid\": \"HomeNetwork\", \"bssid\": \"02:00:00:00:00:01\", \"channel\": 6, \"rssi\": -40,\n"
    "   \"auth\": \"wpa2_psk\", \"passphrase\": \"correct-horse\", \"connect_ms\": 200, \"ip\": \"192.168.1.42\"},\n"
    "  {\"ssid\": \"CoffeeShop\", \"channel\": 1, \"rssi\": -60, \"auth\": \"open\", \"connect_ms\": 200,\n"
    "   \"ip\": \"10.0.0.23\"},\n"
    "  {\"ssid\": \"Office\", \"channel\": 11, \"rssi\": -55, \"auth\": \"wpa3_psk\",\n"
    "   \"passphrase\": \"battery-staple\", \"connect_ms\": 200},\n"
    "  {\"ssid\": \"Attic\", \"channel\": 3, \"rssi\": -80, \"auth\": \"wpa_wpa2_psk\",\n"
    "   \"passphrase\": \"dusty-boxes\", \"connect_ms\": 200},\n"
    "  {\"ssid\": \"Garden\", \"channel\": 9, \"rssi\": -70, \"auth\": \"wpa2_psk\",\n"
    "   \"passphrase\": \"green-grass\", \"connect_ms\": 200}\n"
    "]\n";

uint64_t itest_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000u, (long)(ms % 1000u) * 1000000L};

    nanosleep(&ts, NULL);
}

static void write_text(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

void itest_daemon_init(struct itest_daemon *d)
{
    const char *tmp = getenv("TMPDIR");
    char path[PATH_MAX + 32], conf[2 * PATH_MAX + 512];

    memset(d, 0, sizeof(*d));
    d->pid = -1;
    snprintf(d->dir, sizeof(d->dir), "%s/wifiprovd-itest-XXXXXX", tmp && *tmp ? tmp : P_tmpdir);
    assert_non_null(mkdtemp(d->dir));
    snprintf(d->state, sizeof(d->state), "%s/state", d->dir);
    snprintf(d->log, sizeof(d->log), "%s/wifiprovd.log", d->dir);
    snprintf(d->out, sizeof(d->out), "%s/wifiprovd.out", d->dir);
    snprintf(path, sizeof(path), "%s/networks.json", d->dir);
    write_text(path, networks_json, 0644);
    /* Most settings come from the INI file, so the file parser is exercised by every case. */
    snprintf(conf, sizeof(conf),
             "# integration test configuration\n"
             "[wifiprovd]\n"
             "transport = http\n"
             "wifi = sim\n"
             "sim-config = %s/networks.json\n"
             "sim-scan-ms = 200\n"
             "scan-interval = 0\n"
             "state-dir = \"%s\"\n"
             "session-timeout = 120\n"
             "web-ui = false\n"
             "listen = 127.0.0.1:1\n",
             d->dir, d->state);
    snprintf(path, sizeof(path), "%s/wifiprovd.conf", d->dir);
    write_text(path, conf, 0600);
}

bool itest_log_contains(const struct itest_daemon *d, const char *needle)
{
    FILE *f = fopen(d->log, "r");
    char *buf;
    size_t n;
    bool found;

    if (!f)
        return false;
    buf = malloc(1 << 20);
    assert_non_null(buf);
    n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = '\0';
    fclose(f);
    found = strstr(buf, needle) != NULL;
    free(buf);
    return found;
}

unsigned itest_log_count(const struct itest_daemon *d, const char *needle)
{
    char *text = test_read_file(d->log, NULL);
    unsigned n = 0;

    for (const char *p = text; p && (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    free(text);
    return n;
}

int itest_setup(void **state)
{
    struct itest_fixture *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    itest_daemon_init(&f->d);
    *state = f;
    return 0;
}

int itest_teardown(void **state)
{
    struct itest_fixture *f = *state;

    itest_client_close(&f->a);
    itest_client_close(&f->b);
    itest_daemon_cleanup(&f->d);
    free(f);
    return 0;
}

bool itest_log_wait(const struct itest_daemon *d, const char *needle, int timeout_ms)
{
    uint64_t end = itest_now_ms() + (uint64_t)timeout_ms;

    while (itest_now_ms() < end) {
        if (itest_log_contains(d, needle))
            return true;
        sleep_ms(20);
    }
    return itest_log_contains(d, needle);
}

static void print_log(const struct itest_daemon *d)
{
    FILE *f = fopen(d->log, "r");
    char line[1024];

    if (!f)
        return;
    fprintf(stderr, "---- wifiprovd log ----\n");
    while (fgets(line, sizeof(line), f))
        fputs(line, stderr);
    fprintf(stderr, "-----------------------\n");
    fclose(f);
}

static unsigned read_port(const struct itest_daemon *d)
{
    static const char key[] = "HTTP transport listening on 127.0.0.1:";
    FILE *f = fopen(d->log, "r");
    char line[1024];
    unsigned port = 0;

    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f)) {
        char *p = strstr(line, key);
        if (p)
            port = (unsigned)strtoul(p + sizeof(key) - 1, NULL, 10);
    }
    fclose(f);
    return port;
}

void itest_daemon_start(struct itest_daemon *d, const char *const *args, const char *ready_line)
{
    char conf[PATH_MAX + 32];
    const char *argv[64];
    size_t n = 0;
    uint64_t end;
    pid_t pid;

    snprintf(conf, sizeof(conf), "%s/wifiprovd.conf", d->dir);
    argv[n++] = WIFIPROVD_PATH;
    argv[n++] = "--config";
    argv[n++] = conf;
    argv[n++] = "--listen"; /* the command line wins over the file's port 1 */
    argv[n++] = "127.0.0.1:0";
    argv[n++] = "-v";
    for (size_t i = 0; args && args[i]; i++) {
        assert_true(n < 62);
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    /* Truncate the log of a previous run of this case. */
    write_text(d->log, "", 0644);
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int out = open(d->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = open(d->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (out < 0 || err < 0)
            _exit(126);
        dup2(out, 1);
        dup2(err, 2);
        execv(WIFIPROVD_PATH, (char *const *)argv);
        _exit(127);
    }
    d->pid = pid;
    d->port = 0;
    end = itest_now_ms() + ITEST_START_TIMEOUT_MS;
    while (itest_now_ms() < end) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            d->pid = -1;
            print_log(d);
            fail_msg("wifiprovd exited during start-up (status 0x%x)", st);
        }
        if (itest_log_contains(d, ready_line ? ready_line : "Provisioning started with service name"))
            break;
        sleep_ms(20);
    }
    if (!itest_log_contains(d, ready_line ? ready_line : "Provisioning started with service name")) {
        print_log(d);
        fail_msg("wifiprovd did not become ready in %d ms", ITEST_START_TIMEOUT_MS);
    }
    d->port = read_port(d);
    snprintf(d->url, sizeof(d->url), "http://127.0.0.1:%u", d->port);
}

bool itest_daemon_wait(struct itest_daemon *d, int timeout_ms)
{
    uint64_t end = itest_now_ms() + (uint64_t)timeout_ms;
    int st;

    if (d->pid <= 0)
        return true;
    for (;;) {
        pid_t r = waitpid(d->pid, &st, WNOHANG);
        if (r == d->pid) {
            d->pid = -1;
            d->exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            return true;
        }
        if (itest_now_ms() >= end)
            return false;
        sleep_ms(10);
    }
}

void itest_daemon_stop(struct itest_daemon *d)
{
    if (d->pid <= 0)
        return;
    kill(d->pid, SIGTERM);
    if (!itest_daemon_wait(d, ITEST_STOP_TIMEOUT_MS)) {
        print_log(d);
        fail_msg("wifiprovd did not stop within %d ms of SIGTERM", ITEST_STOP_TIMEOUT_MS);
    }
    if (d->exit_status != 0)
        print_log(d);
    assert_int_equal(d->exit_status, 0);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void itest_daemon_cleanup(struct itest_daemon *d)
{
    if (d->pid > 0) {
        kill(d->pid, SIGKILL);
        waitpid(d->pid, NULL, 0);
        d->pid = -1;
    }
    if (d->dir[0] && !getenv("ITEST_KEEP"))
        nftw(d->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    d->dir[0] = '\0';
}

/* --- libcurl client ------------------------------------------------------------------ */

struct sink {
    uint8_t *buf;
    size_t cap;
    size_t len;
    bool overflow;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    struct sink *s = ud;
    size_t n = size * nmemb;

    if (n > s->cap - s->len) {
        s->overflow = true;
        return 0;
    }
    memcpy(s->buf + s->len, data, n);
    s->len += n;
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    struct itest_client *c = ud;
    size_t n = size * nmemb;
    static const char key[] = "set-cookie:";

    if (n > sizeof(key) && strncasecmp(data, key, sizeof(key) - 1) == 0) {
        const char *v = data + sizeof(key) - 1;
        size_t vl = n - (sizeof(key) - 1);
        while (vl && (*v == ' ' || *v == '\t'))
            v++, vl--;
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n'))
            vl--;
        if (vl < sizeof(c->cookie)) {
            memcpy(c->cookie, v, vl);
            c->cookie[vl] = '\0';
        }
    }
    return n;
}

int itest_xfer(void *ctx, const char *endpoint, const uint8_t *req, size_t req_len, uint8_t *resp, size_t resp_cap,
               size_t *resp_len)
{
    struct itest_client *c = ctx;
    struct curl_slist *hdrs = NULL;
    struct sink sink = {resp, resp_cap, 0, false};
    char url[160], cookie[96];
    CURLcode rc;
    int err = 0;

    snprintf(url, sizeof(url), "%s/%s", c->d->url, endpoint);
    hdrs = curl_slist_append(hdrs, "Content-Type: application/x-www-form-urlencoded");
    hdrs = curl_slist_append(hdrs, "Accept: text/plain");
    hdrs = curl_slist_append(hdrs, "Expect:");
    if (c->cookie[0] && !c->no_cookie) {
        snprintf(cookie, sizeof(cookie), "Cookie: %s", c->cookie);
        hdrs = curl_slist_append(hdrs, cookie);
    }
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c->curl, CURLOPT_POST, 1L);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, (const char *)req);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, (long)req_len);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, 20000L);
    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    rc = curl_easy_perform(c->curl);
    curl_slist_free_all(hdrs);
    c->last_http_status = 0;
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &c->last_http_status);
    if (rc == CURLE_OPERATION_TIMEDOUT)
        err = WIFIPROV_ERR_TIMEOUT;
    else if (sink.overflow)
        err = WIFIPROV_ERR_NOSPC;
    else if (rc != CURLE_OK || c->last_http_status != 200)
        err = WIFIPROV_ERR_TRANSPORT;
    if (err == 0) {
        *resp_len = sink.len;
        c->xfers++;
        if (c->after_xfer)
            c->after_xfer(c, endpoint, c->after_ctx);
    }
    return err;
}

void itest_client_open(struct itest_client *c, struct itest_daemon *d)
{
    memset(c, 0, sizeof(*c));
    c->d = d;
    c->curl = curl_easy_init();
    assert_non_null(c->curl);
}

void itest_client_session(struct itest_client *c, enum wifiprov_security sec, const char *pop, const char *user,
                          const char *password)
{
    struct wifiprov_client_config cc;
    struct wifiprov_version_info info;
    uint8_t buf[1024];
    size_t len = 0;

    /* The version reply tells the security-2 framing (sec_patch_ver). */
    assert_int_equal(itest_xfer(c, WIFIPROV_EP_VERSION, (const uint8_t *)"---", 3, buf, sizeof(buf), &len), 0);
    assert_int_equal(wifiprov_version_parse(buf, len, &info), 0);
    assert_true(info.is_json);
    assert_int_equal(info.sec_ver, (int)sec);
    memset(&cc, 0, sizeof(cc));
    cc.xfer = itest_xfer;
    cc.xfer_ctx = c;
    cc.security = sec;
    cc.pop = pop;
    cc.username = user;
    cc.password = password;
    cc.sec_patch_ver = info.sec_patch_ver;
    wifiprov_client_free(c->wc);
    c->wc = NULL;
    assert_int_equal(wifiprov_client_new(&cc, &c->wc), 0);
}

void itest_client_close(struct itest_client *c)
{
    wifiprov_client_free(c->wc);
    c->wc = NULL;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    c->curl = NULL;
}

void itest_set_config(struct itest_client *c, const char *ssid, const char *passphrase)
{
    struct wifiprov_wifi_creds cr;
    int status = -1;

    memset(&cr, 0, sizeof(cr));
    cr.ssid_len = (uint8_t)strlen(ssid);
    memcpy(cr.ssid, ssid, cr.ssid_len);
    cr.passphrase_len = (uint8_t)strlen(passphrase);
    memcpy(cr.passphrase, passphrase, cr.passphrase_len);
    assert_int_equal(wifiprov_client_set_config(c->wc, &cr, &status), 0);
}

void itest_provision(struct itest_client *c, const char *ssid, const char *passphrase)
{
    int status = -1;

    itest_set_config(c, ssid, passphrase);
    assert_int_equal(wifiprov_client_apply_config(c->wc, &status), 0);
}

void itest_wait_status(struct itest_client *c, struct wifiprov_wifi_status *st)
{
    uint64_t end = itest_now_ms() + ITEST_STATUS_TIMEOUT_MS;

    for (;;) {
        memset(st, 0, sizeof(*st));
        assert_int_equal(wifiprov_client_get_status(c->wc, st), 0);
        if (st->state != WIFIPROV_STA_STATE_CONNECTING)
            return;
        if (itest_now_ms() >= end)
            fail_msg("still connecting after %d ms", ITEST_STATUS_TIMEOUT_MS);
        sleep_ms(50);
    }
}

/* --- raw sockets ----------------------------------------------------------------------- */

size_t itest_raw(const struct itest_daemon *d, const void *req, size_t len, bool shutdown_write, char *resp,
                 size_t cap, int timeout_ms)
{
    struct sockaddr_in a;
    uint64_t end = itest_now_ms() + (uint64_t)timeout_ms;
    size_t got = 0;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)d->port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    if (len)
        assert_int_equal(send(fd, req, len, MSG_NOSIGNAL), (ssize_t)len);
    if (shutdown_write)
        shutdown(fd, SHUT_WR);
    while (got + 1 < cap) {
        struct pollfd p = {fd, POLLIN, 0};
        uint64_t now = itest_now_ms();
        ssize_t n;

        if (now >= end)
            break;
        if (poll(&p, 1, (int)(end - now)) <= 0)
            break;
        n = recv(fd, resp + got, cap - 1 - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    resp[got] = '\0';
    close(fd);
    return got;
}

int itest_connect_from(const char *src, unsigned port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    if (inet_pton(AF_INET, src, &a.sin_addr) != 1 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        close(fd);
        return -1;
    }
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

size_t itest_read_response(int fd, char *buf, size_t cap, int timeout_ms)
{
    size_t len = 0;

    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        const char *end, *cl;
        ssize_t n;

        buf[len] = '\0';
        end = strstr(buf, "\r\n\r\n");
        cl = strstr(buf, "Content-Length: ");
        if (end && cl && len >= (size_t)(end + 4 - buf) + strtoul(cl + 16, NULL, 10))
            return len;
        if (len + 1 >= cap || poll(&p, 1, timeout_ms) != 1)
            return 0;
        n = recv(fd, buf + len, cap - 1 - len, 0);
        if (n <= 0)
            return 0;
        len += (size_t)n;
    }
}
