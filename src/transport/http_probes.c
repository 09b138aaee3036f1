/*
 * Harmless answers to the captive-portal probes of phones and laptops, so that a
 * client joined to the device's access point does not give up on it or pop up a
 * login page (GET/HEAD only; see http.h).
 */
#include <stddef.h>
#include <string.h>

#include "transport/http.h"
#include "util.h"

static const char apple_success[] = "<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>\n";
static const char ok_page[] = "<!DOCTYPE html><html><head><title>OK</title></head><body>OK</body></html>\n";

static const struct wifiprov_httpd_probe probes[] = {
    {"/generate_204", 204, NULL, ""},
    {"/gen_204", 204, NULL, ""},
    {"/hotspot-detect.html", 200, "text/html", apple_success},
    {"/library/test/success.html", 200, "text/html", apple_success},
    {"/connecttest.txt", 200, "text/plain", "Microsoft Connect Test"},
    {"/ncsi.txt", 200, "text/plain", "Microsoft NCSI"},
    {"/canonical.html", 200, "text/html", ok_page},
    {"/success.txt", 200, "text/plain", "success\n"},
};

const struct wifiprov_httpd_probe *wifiprov__httpd_probe_find(const char *path)
{
    for (size_t i = 0; i < WIFIPROV_ARRAY_SIZE(probes); i++) {
        if (strcmp(probes[i].path, path) == 0)
            return &probes[i];
    }
    return NULL;
}
