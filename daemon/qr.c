/*
 * The QR code of PROTOCOL.md §10 for phone apps: payload JSON, terminal rendering
 * with half blocks, PNG (libpng) and SVG files.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <png.h>
#include <qrencode.h>

#include "wifiprovd.h"

#define TERM_QUIET 2 /* modules of quiet zone in the terminal */
#define FILE_QUIET 4 /* and in image files (the standard's minimum) */
#define PNG_SCALE 8  /* pixels per module */

char *wifiprovd_qr_payload(const char *name, const char *username, const char *pop, const char *transport,
                           const char *password)
{
    cJSON *o = cJSON_CreateObject();
    char *out = NULL;

    if (!o)
        return NULL;
    /* Key order as in the ESP-IDF example: ver, name, username, pop, transport; then password. */
    if (!cJSON_AddStringToObject(o, "ver", "v1") || !cJSON_AddStringToObject(o, "name", name) ||
        (username && !cJSON_AddStringToObject(o, "username", username)) ||
        (pop && !cJSON_AddStringToObject(o, "pop", pop)) || !cJSON_AddStringToObject(o, "transport", transport) ||
        (password && !cJSON_AddStringToObject(o, "password", password)))
        goto out;
    {
        char *s = cJSON_PrintUnformatted(o);
        if (s) {
            out = strdup(s);
            memset(s, 0, strlen(s));
            cJSON_free(s);
        }
    }
out:
    cJSON_Delete(o);
    return out;
}

/* Appends @p s percent-encoded (RFC 3986 unreserved characters kept). */
static void url_encode(char *out, size_t cap, size_t *o, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                     c == '.' || c == '_' || c == '~';
        if (*o + 4 > cap)
            return;
        if (plain) {
            out[(*o)++] = (char)c;
        } else {
            out[(*o)++] = '%';
            out[(*o)++] = hex[c >> 4];
            out[(*o)++] = hex[c & 15];
        }
    }
}

char *wifiprovd_qr_url(const char *base, const char *username, const char *pop)
{
    size_t cap = strlen(base) + 3 * ((username ? strlen(username) : 0) + (pop ? strlen(pop) : 0)) + 32;
    char *out = malloc(cap);
    size_t o = 0;

    if (!out)
        return NULL;
    o = (size_t)snprintf(out, cap, "%s", base);
    /* The page reads these from the fragment, which browsers never send to a server. */
    if (username) {
        o += (size_t)snprintf(out + o, cap - o, "#username=");
        url_encode(out, cap, &o, username);
    }
    if (pop) {
        o += (size_t)snprintf(out + o, cap - o, "%s", username ? "&password=" : "#pop=");
        url_encode(out, cap, &o, pop);
    }
    out[o] = '\0';
    return out;
}

static QRcode *encode(const char *payload)
{
    QRcode *q = QRcode_encodeString8bit(payload, 0, QR_ECLEVEL_L);

    if (!q)
        wd_err("Cannot make a QR code: %s", strerror(errno));
    return q;
}

/* true when module (x, y) is dark; outside the symbol (quiet zone) is light. */
static int dark(const QRcode *q, int x, int y)
{
    if (x < 0 || y < 0 || x >= q->width || y >= q->width)
        return 0;
    return q->data[y * q->width + x] & 1;
}

int wifiprovd_qr_print(FILE *f, const char *payload)
{
    QRcode *q = encode(payload);
    int lo, hi;

    if (!q)
        return -1;
    /*
     * Light modules are drawn as blocks so the code reads right on the usual dark
     * terminal background; two module rows per text line.
     */
    lo = -TERM_QUIET;
    hi = q->width + TERM_QUIET;
    bool url = strncmp(payload, "http://", 7) == 0 || strncmp(payload, "https://", 8) == 0;

    if (url)
        fprintf(f, "Scan this QR code with a phone's camera: it opens the provisioning page.\n");
    else
        fprintf(f, "Scan this QR code from the provisioning application for Provisioning.\n");
    for (int y = lo; y < hi; y += 2) {
        for (int x = lo; x < hi; x++) {
            int top = !dark(q, x, y);
            int bottom = y + 1 < hi ? !dark(q, x, y + 1) : 0;
            fputs(top && bottom ? "\u2588" : top ? "\u2580" : bottom ? "\u2584" : " ", f);
        }
        fputc('\n', f);
    }
    fprintf(f, "%s\n", payload);
    if (url)
        goto done;
    fprintf(f, "If QR code is not visible, copy paste the below URL in a browser.\n"
               "https://espressif.github.io/esp-jumpstart/qrcode.html?data=%s\n",
            payload);
done:
    fflush(f);
    QRcode_free(q);
    return 0;
}

/* The image holds the PoP (or the development password): readable by its owner only, also
 * when the file existed with a wider mode. */
static FILE *open_private(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *f;

    if (fd < 0)
        return NULL;
    if (fchmod(fd, 0600) < 0 || !(f = fdopen(fd, "w"))) {
        close(fd);
        return NULL;
    }
    return f;
}

/* Closes a file from open_private(): 0, or -1 after saying why (a full disk shows here). */
static int close_written(FILE *f, const char *kind, const char *path)
{
    if (fclose(f) != 0) {
        wd_err("Cannot write QR %s %s: %s", kind, path, strerror(errno));
        return -1;
    }
    return 0;
}

int wifiprovd_qr_write_png(const char *path, const char *payload)
{
    QRcode *q = encode(payload);
    png_image img;
    uint8_t *px = NULL;
    FILE *f = NULL;
    int side, ret = -1;

    memset(&img, 0, sizeof(img));
    if (!q)
        return -1;
    side = (q->width + 2 * FILE_QUIET) * PNG_SCALE;
    px = malloc((size_t)side * (size_t)side);
    if (!px)
        goto out;
    for (int y = 0; y < side; y++) {
        for (int x = 0; x < side; x++)
            px[y * side + x] = dark(q, x / PNG_SCALE - FILE_QUIET, y / PNG_SCALE - FILE_QUIET) ? 0 : 255;
    }
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)side;
    img.height = (png_uint_32)side;
    img.format = PNG_FORMAT_GRAY;
    f = open_private(path);
    if (!f) {
        wd_err("Cannot write QR PNG %s: %s", path, strerror(errno));
        goto out;
    }
    if (!png_image_write_to_stdio(&img, f, 0, px, side, NULL)) {
        wd_err("Cannot write QR PNG %s: %s", path, img.message);
        goto out;
    }
    ret = close_written(f, "PNG", path);
    f = NULL;
out:
    if (f)
        fclose(f);
    png_image_free(&img);
    free(px);
    QRcode_free(q);
    return ret;
}

int wifiprovd_qr_write_svg(const char *path, const char *payload)
{
    QRcode *q = encode(payload);
    FILE *f = NULL;
    int side, ret = -1;

    if (!q)
        return -1;
    f = open_private(path);
    if (!f) {
        wd_err("Cannot write QR SVG %s: %s", path, strerror(errno));
        goto out;
    }
    side = q->width + 2 * FILE_QUIET;
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" viewBox=\"0 0 %d %d\" width=\"%d\" "
            "height=\"%d\" shape-rendering=\"crispEdges\">\n"
            "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n<path fill=\"#000000\" d=\"",
            side, side, side * PNG_SCALE, side * PNG_SCALE, side, side);
    /* One horizontal run of dark modules per path segment. */
    for (int y = 0; y < q->width; y++) {
        for (int x = 0; x < q->width;) {
            int run = 0;
            while (x + run < q->width && dark(q, x + run, y))
                run++;
            if (run) {
                fprintf(f, "M%d %dh%dv1h-%dz", x + FILE_QUIET, y + FILE_QUIET, run, run);
                x += run;
            } else {
                x++;
            }
        }
    }
    fprintf(f, "\"/>\n</svg>\n");
    ret = close_written(f, "SVG", path);
    f = NULL;
out:
    if (f)
        fclose(f);
    QRcode_free(q);
    return ret;
}
