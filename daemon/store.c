/*
 * The daemon's state: <state-dir>/state.json holds the provisioned network.
 * Written atomically (temporary file in the same directory, fsync, rename, fsync
 * of the directory) with mode 0600; temporaries an interrupted write left are
 * removed at start. A corrupt file is moved aside to
 * state.json.bad and the device counts as not provisioned.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "util.h"
#include "wifi/wifiutil.h"
#include "wifiprovd.h"

#define STATE_FILE "state.json"
#define STATE_MAX 65536

static void join(char *out, size_t cap, const char *dir, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

/* Temporaries an interrupted atomic write left (".state.json.XXXXXX", ".wpa-reenable.XXXXXX"). */
static void remove_temporaries(const char *dir)
{
    static const char *const prefixes[] = {"." STATE_FILE ".", ".wpa-reenable."};
    DIR *d = opendir(dir);
    struct dirent *e;

    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
            size_t n = strlen(prefixes[i]);

            if (strncmp(e->d_name, prefixes[i], n) || strlen(e->d_name) != n + 6)
                continue;
            if (unlinkat(dirfd(d), e->d_name, 0) == 0)
                wd_info("Removed %s/%s, left by an interrupted write", dir, e->d_name);
            else
                wd_warn("Cannot remove %s/%s: %s", dir, e->d_name, strerror(errno));
        }
    }
    closedir(d);
}

int wifiprovd_store_prepare(const char *dir)
{
    struct stat sb;

    if (stat(dir, &sb) == 0) {
        if (!S_ISDIR(sb.st_mode)) {
            wd_err("State directory %s is not a directory", dir);
            return -1;
        }
        remove_temporaries(dir);
        return 0;
    }
    if (errno != ENOENT || mkdir(dir, 0700) < 0) {
        wd_err("Cannot create state directory %s: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

void wifiprovd_escape(const uint8_t *in, size_t len, char *out, size_t cap)
{
    (void)wifiprov__escape(in, len, out, cap);
}

static int hex_field(const cJSON *obj, const char *name, uint8_t *out, size_t cap, size_t *len)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);

    if (!cJSON_IsString(it) || !it->valuestring)
        return -1;
    return wifiprov__hex_decode(it->valuestring, out, cap, len) == 0 ? 0 : -1;
}

int wifiprovd_store_parse(const char *text, struct wifiprovd_state *st, const char **why)
{
    cJSON *root = cJSON_Parse(text);
    const cJSON *it;
    size_t n = 0;
    int ret = -1;

    memset(st, 0, sizeof(*st));
    if (!root || !cJSON_IsObject(root)) {
        *why = "not a JSON object";
        goto out;
    }
    it = cJSON_GetObjectItemCaseSensitive(root, "version");
    if (!cJSON_IsNumber(it) || it->valueint != 1) {
        *why = "unknown version";
        goto out;
    }
    it = cJSON_GetObjectItemCaseSensitive(root, "backend");
    if (!cJSON_IsString(it) || !it->valuestring || strlen(it->valuestring) >= sizeof(st->backend)) {
        *why = "no backend";
        goto out;
    }
    strcpy(st->backend, it->valuestring);
    if (hex_field(root, "ssid_hex", st->creds.ssid, sizeof(st->creds.ssid), &n) < 0 || n == 0) {
        *why = "bad ssid_hex";
        goto out;
    }
    st->creds.ssid_len = (uint8_t)n;
    it = cJSON_GetObjectItemCaseSensitive(root, "passphrase_hex");
    if (it) {
        uint8_t pp[WIFIPROV_PASSPHRASE_MAX];
        if (hex_field(root, "passphrase_hex", pp, sizeof(pp), &n) < 0 || memchr(pp, 0, n)) {
            wifiprov_memzero(pp, sizeof(pp));
            *why = "bad passphrase_hex";
            goto out;
        }
        memcpy(st->creds.passphrase, pp, n);
        st->creds.passphrase[n] = '\0';
        st->creds.passphrase_len = (uint8_t)n;
        wifiprov_memzero(pp, sizeof(pp));
    }
    it = cJSON_GetObjectItemCaseSensitive(root, "timestamp");
    /* Converted only when it fits: a double out of int64_t's range is undefined behaviour. */
    if (cJSON_IsNumber(it) && it->valuedouble >= 0 && it->valuedouble < 9.2e18)
        st->timestamp = (int64_t)it->valuedouble;
    ret = 0;
out:
    if (root) {
        /* The tree holds the passphrase in hex. */
        it = cJSON_GetObjectItemCaseSensitive(root, "passphrase_hex");
        if (cJSON_IsString(it) && it->valuestring)
            wifiprov_memzero(it->valuestring, strlen(it->valuestring));
        cJSON_Delete(root);
    }
    if (ret)
        wifiprov_memzero(st, sizeof(*st));
    return ret;
}

int wifiprovd_store_load(const char *dir, struct wifiprovd_state *st)
{
    char path[PATH_MAX], bad[PATH_MAX];
    char *buf = NULL;
    const char *why = NULL;
    ssize_t n;
    size_t len = 0;
    int fd, ret = -1;

    join(path, sizeof(path), dir, STATE_FILE);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        wd_err("Cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    buf = malloc(STATE_MAX + 1);
    if (!buf)
        goto out;
    while ((n = read(fd, buf + len, STATE_MAX - len)) > 0)
        len += (size_t)n;
    if (n < 0) {
        wd_err("Cannot read %s: %s", path, strerror(errno));
        goto out;
    }
    buf[len] = '\0';
    if (len == STATE_MAX)
        why = "too large";
    else if (len == 0)
        why = "empty";
    else if (strlen(buf) != len)
        why = "contains NUL bytes";
    if (!why && wifiprovd_store_parse(buf, st, &why) == 0) {
        ret = 1;
        goto out;
    }
    join(bad, sizeof(bad), dir, STATE_FILE ".bad");
    if (rename(path, bad) == 0)
        wd_warn("State file %s is corrupt (%s); moved aside to %s. The device counts as not provisioned.", path, why,
                bad);
    else
        wd_warn("State file %s is corrupt (%s) and cannot be moved aside (%s). The device counts as not "
                "provisioned.",
                path, why, strerror(errno));
    ret = 0;
out:
    if (buf) {
        wifiprov_memzero(buf, len);
        free(buf);
    }
    close(fd);
    return ret;
}

int wifiprovd_store_save(const char *dir, const struct wifiprovd_state *st)
{
    char ssid_hex[2 * WIFIPROV_SSID_MAX + 1], pp_hex[2 * WIFIPROV_PASSPHRASE_MAX + 1];
    char shown[4 * WIFIPROV_SSID_MAX + 1];
    char when[32];
    struct tm tm;
    time_t t = (time_t)st->timestamp;
    cJSON *root = NULL;
    char *text = NULL, *line = NULL;
    size_t len = 0;
    int ret = -1;

    wifiprov__hex_encode(st->creds.ssid, st->creds.ssid_len, ssid_hex);
    wifiprovd_escape(st->creds.ssid, st->creds.ssid_len, shown, sizeof(shown));
    gmtime_r(&t, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);

    root = cJSON_CreateObject();
    if (!root || !cJSON_AddNumberToObject(root, "version", 1) ||
        !cJSON_AddStringToObject(root, "backend", st->backend) || !cJSON_AddStringToObject(root, "ssid", shown) ||
        !cJSON_AddStringToObject(root, "ssid_hex", ssid_hex) ||
        !cJSON_AddNumberToObject(root, "timestamp", (double)st->timestamp) ||
        !cJSON_AddStringToObject(root, "time", when))
        goto out;
    if (st->creds.passphrase_len > 0) {
        wifiprov__hex_encode((const uint8_t *)st->creds.passphrase, st->creds.passphrase_len, pp_hex);
        if (!cJSON_AddStringToObject(root, "passphrase_hex", pp_hex))
            goto out;
    }
    text = cJSON_Print(root);
    if (!text)
        goto out;

    /* With a trailing newline, for people who cat it. */
    len = strlen(text);
    line = malloc(len + 2);
    if (!line)
        goto out;
    memcpy(line, text, len);
    line[len++] = '\n';
    line[len] = '\0';
    if (wifiprov__wifiutil_write_atomic(dir, STATE_FILE, line, len) < 0) {
        wd_err("Cannot write %s/%s", dir, STATE_FILE);
        goto out;
    }
    ret = 0;
out:
    if (line) {
        wifiprov_memzero(line, len);
        free(line);
    }
    if (text) {
        wifiprov_memzero(text, strlen(text));
        cJSON_free(text);
    }
    if (root) {
        const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, "passphrase_hex");
        if (cJSON_IsString(it) && it->valuestring)
            wifiprov_memzero(it->valuestring, strlen(it->valuestring));
        cJSON_Delete(root);
    }
    wifiprov_memzero(pp_hex, sizeof(pp_hex));
    return ret;
}

static int hex_member(const cJSON *root, const char *name, uint8_t *out, size_t cap, size_t *len)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, name);

    if (!cJSON_IsString(it) || !it->valuestring || wifiprov__hex_decode(it->valuestring, out, cap, len) != 0 ||
        *len == 0)
        return -1;
    return 0;
}

int wifiprovd_sec2_file_parse(const char *text, const char *name, char **username, uint8_t *salt, size_t salt_cap,
                              size_t *salt_len, uint8_t *verifier, size_t *verifier_len)
{
    cJSON *root = cJSON_Parse(text);
    const cJSON *user;
    int ret = -1;

    *username = NULL;
    if (!cJSON_IsObject(root)) {
        wd_err("%s is not a JSON object", name);
        goto out;
    }
    user = cJSON_GetObjectItemCaseSensitive(root, "username");
    if (!cJSON_IsString(user) || !user->valuestring || !*user->valuestring || strlen(user->valuestring) > 255) {
        wd_err("%s: \"username\" must be a string of 1..255 bytes", name);
        goto out;
    }
    if (hex_member(root, "salt", salt, salt_cap, salt_len) < 0) {
        wd_err("%s: \"salt\" must be 1..%zu bytes in hex", name, salt_cap);
        goto out;
    }
    if (hex_member(root, "verifier", verifier, WIFIPROV_SEC2_VERIFIER_LEN, verifier_len) < 0) {
        wd_err("%s: \"verifier\" must be 1..%d bytes in hex", name, WIFIPROV_SEC2_VERIFIER_LEN);
        goto out;
    }
    *username = strdup(user->valuestring);
    ret = *username ? 0 : -1;
out:
    if (root) {
        /* The tree holds the verifier in hex. */
        const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, "verifier");

        if (cJSON_IsString(it) && it->valuestring)
            wifiprov_memzero(it->valuestring, strlen(it->valuestring));
        cJSON_Delete(root);
    }
    if (ret) {
        wifiprov_memzero(verifier, WIFIPROV_SEC2_VERIFIER_LEN);
        *verifier_len = 0;
    }
    return ret;
}
