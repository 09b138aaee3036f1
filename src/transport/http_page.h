/*
 * The provisioning page on the HTTP transport: one self-contained HTML file (built
 * from web/ into web/dist/index.html and installed with the daemon) answered to
 * GET / and GET /index.html, with headers that let it run nothing but its own inline
 * script and style. While a page is served, the captive-portal probes of phones and
 * laptops are redirected to it, so the operating system opens it by itself (see
 * docs/wifiprovd.md, "The provisioning page"); without a page they keep their
 * "success" answers. The page speaks the same POST endpoints as every client.
 */
#ifndef WIFIPROV_TRANSPORT_HTTP_PAGE_H
#define WIFIPROV_TRANSPORT_HTTP_PAGE_H

#include <stdbool.h>
#include <stddef.h>

struct wifiprov_httpd_reply;
struct wifiprov_httpd_page;

/* Largest page file accepted. */
#define WIFIPROV_HTTPD_PAGE_MAX (1024u * 1024u)

/*
 * Reads the page from @p path and prepares its headers (the Content-Security-Policy
 * names the SHA-256 of its inline <script> and <style>).
 * @return 0, WIFIPROV_ERR_IO (cannot read it: logged with the path), WIFIPROV_ERR_INVAL
 *         (empty, larger than WIFIPROV_HTTPD_PAGE_MAX, or not an HTML page), WIFIPROV_ERR_NOMEM.
 */
int wifiprov_httpd_page_load(const char *path, struct wifiprov_httpd_page **out);
/* Accepts NULL. */
void wifiprov_httpd_page_free(struct wifiprov_httpd_page *p);
/* Size of the page in bytes. */
size_t wifiprov_httpd_page_size(const struct wifiprov_httpd_page *p);

/*
 * The answer to GET/HEAD @p path when a page is served: the page itself for "/" and
 * "/index.html"; for the captive-portal probes a 302 to @p location, the page's URL
 * on the address the client connected to (e.g. "http://192.168.4.1/"; NULL or ""
 * gives "/"). @return true when @p reply was filled (it points into @p p and
 * @p location, which must outlive it).
 */
bool wifiprov__httpd_page_answer(const struct wifiprov_httpd_page *p, const char *path, const char *location,
                                 struct wifiprov_httpd_reply *reply);

#endif
