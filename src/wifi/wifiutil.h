/*
 * Helpers shared by the NetworkManager and wpa_supplicant backends: channel numbers,
 * auth-mode mapping, wpa_supplicant's text formats, small state files. Kept apart from
 * the backends so the unit tests can check them without a radio.
 */
#ifndef WIFIPROV_WIFIUTIL_H
#define WIFIPROV_WIFIUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wifi/backend.h"

/* ESP-IDF's number for OWE (beyond enum wifiprov_auth_mode; kept as a raw number). */
#define WIFIPROV__AUTH_OWE 9u

/* 2.4, 5 and 6 GHz frequency (MHz) to channel number; 0 when unknown. */
uint32_t wifiprov__wifiutil_freq_to_channel(uint32_t mhz);

/* Auth mode from a wpa_supplicant flags field ("[WPA2-PSK-CCMP][ESS]"). */
uint32_t wifiprov__wifiutil_auth_from_wpa_flags(const char *flags);

/* Auth mode from NetworkManager's AccessPoint Flags / WpaFlags / RsnFlags. */
uint32_t wifiprov__wifiutil_auth_from_nm(uint32_t flags, uint32_t wpa_flags, uint32_t rsn_flags);

/* Auth mode from wpa_supplicant's STATUS key_mgmt ("WPA2-PSK", "SAE", "NONE", ...);
 * UINT32_MAX when unknown. */
uint32_t wifiprov__wifiutil_auth_from_key_mgmt(const char *key_mgmt);

/* NetworkManager's Strength (0..100) back to an estimated RSSI in dBm (NM maps
 * -100..-40 dBm linearly onto 0..100). */
int32_t wifiprov__wifiutil_nm_strength_to_rssi(uint8_t strength);

/*
 * Decodes an SSID as wpa_supplicant prints it (printf_encode: \\ \" \e \n \r \t \xHH).
 * @return 0, WIFIPROV_ERR_INVAL (bad escape), WIFIPROV_ERR_NOSPC (longer than 32 bytes).
 */
int wifiprov__wifiutil_ssid_unescape(const char *in, size_t in_len, uint8_t out[WIFIPROV_SSID_MAX], uint8_t *out_len);

/* Parses "aa:bb:cc:dd:ee:ff". @return 0 or WIFIPROV_ERR_INVAL. */
int wifiprov__wifiutil_parse_mac(const char *s, uint8_t mac[6]);

/*
 * Parses one SCAN_RESULTS line ("bssid\tfreq\tsignal\tflags\tssid").
 * @return 0, or WIFIPROV_ERR_INVAL for the header or a malformed line.
 */
int wifiprov__wifiutil_parse_scan_line(const char *line, size_t len, struct wifiprov_ap *ap);

/*
 * Parses a whole SCAN_RESULTS reply into @p aps (at most @p cap, strongest first,
 * one entry per BSSID; hidden SSIDs are skipped). @return the number of entries.
 */
size_t wifiprov__wifiutil_parse_scan_results(const char *text, struct wifiprov_ap *aps, size_t cap);

/*
 * Adds @p ap to @p aps (holding @p n, at most @p cap): hidden SSIDs and a BSSID already there
 * are skipped; when full, the weakest entry gives way to a stronger one. @return the new count.
 */
size_t wifiprov__wifiutil_add_ap(struct wifiprov_ap *aps, size_t n, size_t cap, const struct wifiprov_ap *ap);

/*
 * Parses one BSS reply ("id=..\nbssid=..\nfreq=..\nlevel=..\nflags=..\nssid=..\n").
 * @p id gets the entry's id (-1 when there is none: the end of the table, or garbage).
 * @return 0, or WIFIPROV_ERR_INVAL for a malformed entry (*id may still be set to go on).
 */
int wifiprov__wifiutil_parse_bss(const char *text, struct wifiprov_ap *ap, long *id);

/* Sorts by RSSI, strongest first (stable for equal RSSI). */
void wifiprov__wifiutil_sort_aps(struct wifiprov_ap *aps, size_t n);

/* Finds the value of "key=" in a "key=value\n" reply (STATUS, GET_NETWORK...); copies
 * at most cap-1 bytes. @return true when found. */
bool wifiprov__wifiutil_kv(const char *text, const char *key, char *out, size_t cap);

/*
 * Constructors with a quiet mode for wifiprov_backend_auto_new(): with @p probe set, a
 * missing service is logged at debug level only. Same results as the public ones.
 */
int wifiprov__backend_nm_open(const struct wifiprov_backend_config *cfg, bool probe, struct wifiprov_backend **out);
int wifiprov__backend_wpa_open(const struct wifiprov_backend_config *cfg, bool probe, struct wifiprov_backend **out);
/* Whether NetworkManager owns its name on the system bus (a synchronous check). */
bool wifiprov__backend_nm_on_bus(void);
/* Whether wpa_supplicant's control socket is in @p dir (NULL = the default): the one named
 * @p ifname, or exactly one when @p ifname is NULL. */
bool wifiprov__backend_wpa_socket_present(const char *dir, const char *ifname);
/* The one control socket in @p dir when no interface is named (wpa_ctrl.c). */
int wifiprov__wpa_find_socket(const char *dir, bool probe, char **ifname);

/* Starts `@p hook "<ifname>"` through /bin/sh in its own session; *pid_out is its pid
 * (reap it with wifiprov__wifiutil_hook_done). @return 0 or a negative WIFIPROV_ERR_*. */
int wifiprov__wifiutil_run_hook(const char *hook, const char *ifname, int *pid_out);
/* Polls the hook without blocking: true (and its exit status, -1 if unknown) once it ended. */
bool wifiprov__wifiutil_hook_done(int pid, int *status_out);

/* The IPv4 address of @p ifname (dotted) if it has one. @return true when found. */
bool wifiprov__wifiutil_ipv4_of(const char *ifname, char out[WIFIPROV_IP4_MAX]);

/* Creates or re-arms a one-shot monotonic timer @p ms from now. */
int wifiprov__wifiutil_timer(sd_event *ev, sd_event_source **src, uint64_t ms, sd_event_time_handler_t cb,
                             void *userdata);

/*
 * Writes @p dir/@p name atomically with mode 0600 (a temporary ".name.XXXXXX" in the same
 * directory, fsync, rename, fsync of the directory). @return 0 or a negative WIFIPROV_ERR_*.
 */
int wifiprov__wifiutil_write_atomic(const char *dir, const char *name, const void *data, size_t len);
/* Removes @p dir/@p name; a missing file is no error. */
int wifiprov__wifiutil_remove_file(const char *dir, const char *name);
/* Reads @p dir/@p name (NUL-terminated). @return 0, WIFIPROV_ERR_NOT_FOUND, WIFIPROV_ERR_NOSPC
 * (larger than @p cap - 1), WIFIPROV_ERR_IO. */
int wifiprov__wifiutil_read_file(const char *dir, const char *name, char *buf, size_t cap);

#endif
