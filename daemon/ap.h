/*
 * The SoftAP service of wifiprovd: the device's own access point (PROV_XXXXXX, 192.168.4.1/24,
 * DHCP from 192.168.4.2, every DNS name answered with 192.168.4.1), started beside the Wi-Fi
 * backend. It is not a transport: the HTTP transport listens on its address.
 *
 * One implementation per Wi-Fi backend, behind one ops table:
 *   - hostapd + dnsmasq, started and supervised by the daemon (ap_hostapd.c), for the
 *     wpa_supplicant and sim backends;
 *   - NetworkManager (ap_nm.c): an AP-mode connection with the "shared" IPv4 method, kept in
 *     memory only; NM's own dnsmasq serves DHCP and DNS, with a drop-in of ours for the DNS.
 * Both share ap.c: the runtime directory, the helper programs (ip, iw), the virtual AP
 * interface and the interface-combination check; the hostapd path also its dnsmasq.
 *
 * Everything the service creates is tagged so the next start can sweep what a kill -9 left:
 *   - the virtual interface is named WIFIPROVD_AP_IFPREFIX<n> and has the ifalias
 *     WIFIPROVD_AP_ALIAS;
 *   - pid and config files live in the daemon's runtime directory (pid files are only
 *     believed when the process's command line names that directory);
 *   - the address on an interface we did not create is recorded in "address" there;
 *   - NetworkManager connections carry user-data wifiprov.owner=wifiprovd and wifiprov.role=softap;
 *   - the dnsmasq drop-in for NetworkManager starts with the line WIFIPROVD_AP_NM_DROPIN_MARK.
 */
#ifndef WIFIPROVD_AP_H
#define WIFIPROVD_AP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

#define WIFIPROVD_AP_ADDRESS "192.168.4.1"
#define WIFIPROVD_AP_PREFIX 24
#define WIFIPROVD_AP_DHCP_FIRST "192.168.4.2"
#define WIFIPROVD_AP_DHCP_LAST "192.168.4.254"
#define WIFIPROVD_AP_IFPREFIX "wpap"
#define WIFIPROVD_AP_ALIAS "wifiprovd softap"
#define WIFIPROVD_AP_DEFAULT_RUNDIR "/run/wifiprovd"
#define WIFIPROVD_AP_OWNER_KEY "wifiprov.owner"
#define WIFIPROVD_AP_OWNER_VALUE "wifiprovd"
#define WIFIPROVD_AP_ROLE_KEY "wifiprov.role"
#define WIFIPROVD_AP_ROLE_VALUE "softap"
/* Read by NetworkManager's dnsmasq for shared connections (its --conf-dir). */
#define WIFIPROVD_AP_NM_DNSMASQ_DIR "/etc/NetworkManager/dnsmasq-shared.d"
#define WIFIPROVD_AP_NM_DROPIN "wifiprovd-softap.conf"
#define WIFIPROVD_AP_NM_DROPIN_MARK "# wifiprovd softap: written by wifiprovd while its"

enum wifiprovd_ap_event {
    WIFIPROVD_AP_EVENT_READY = 0,      /* joinable: beacons, address, DHCP and DNS */
    WIFIPROVD_AP_EVENT_STA_JOINED = 1, /* detail: the station's MAC */
    WIFIPROVD_AP_EVENT_STA_LEFT = 2,   /* detail: the station's MAC */
    WIFIPROVD_AP_EVENT_FAILED = 3,     /* detail: what went wrong (a helper exited, NM said no) */
};
const char *wifiprovd_ap_event_to_string(enum wifiprovd_ap_event ev);

struct wifiprovd_ap_config {
    sd_event *event;
    const char *backend;     /* the Wi-Fi backend's name: picks the implementation */
    const char *sta_ifname;  /* the station's interface (the backend's); NULL = none known */
    const char *ap_ifname;   /* --softap-interface; NULL = a virtual interface on the station's radio */
    const char *ssid;        /* 1..32 bytes */
    const char *passphrase;  /* 8..63 characters, or NULL for an open AP */
    unsigned channel;        /* 0 = automatic */
    bool no_apsta;           /* take the AP down during every connection attempt */
    const char *runtime_dir; /* NULL = $RUNTIME_DIRECTORY/softap, else WIFIPROVD_AP_DEFAULT_RUNDIR */
    void (*event_fn)(void *ctx, enum wifiprovd_ap_event ev, const char *detail);
    void *ctx;
};

struct wifiprovd_ap;

struct wifiprovd_ap_ops {
    const char *name;
    /* Removes what an earlier run left behind (kill -9). @return 0 or -1 (logged). */
    int (*sweep)(struct wifiprovd_ap *ap);
    /* Brings the radio side up (asynchronous: READY or FAILED follows). @return 0 or -1 (logged). */
    int (*radio_up)(struct wifiprovd_ap *ap);
    /* Takes the radio side down (synchronous); the interface and its address stay where possible. */
    void (*radio_down)(struct wifiprovd_ap *ap);
    /* Frees the implementation's part. */
    void (*free_impl)(struct wifiprovd_ap *ap);
};

/* What every implementation shares (ap.c); implementations keep their state behind impl. */
struct wifiprovd_ap {
    struct wifiprovd_ap_config cfg;
    const struct wifiprovd_ap_ops *ops;
    void *impl;
    char rundir[256];
    char sta_ifname[32];
    char ifname[32];       /* the interface the AP runs on */
    bool created_if;       /* we made ifname (virtual interface) */
    bool added_address;    /* we put 192.168.4.1/24 on ifname */
    uint8_t mac[6];        /* the AP's MAC (differs from the station's) */
    unsigned channel;      /* the channel in use */
    bool concurrent;       /* the radio reports an AP + station combination */
    unsigned max_channels; /* channels the radio can use at once (1 when unknown) */
    bool up;               /* started and not stopped */
    bool radio;            /* the radio side is up or coming up */
    bool ready;
    bool suspended;      /* taken down for a station attempt */
    uint64_t t_start_us; /* CLOCK_MONOTONIC of the start, for the "joinable after" figure */
    pid_t dnsmasq_pid;
    sd_event_source *dnsmasq_child;
    bool stopping;
};

/*
 * Makes the service for the running backend ("networkmanager" gets the NetworkManager
 * implementation, every other backend hostapd + dnsmasq) and sweeps leftovers of an earlier
 * run. Nothing is brought up yet. @return 0 or -1 (logged).
 */
int wifiprovd_ap_new(const struct wifiprovd_ap_config *cfg, struct wifiprovd_ap **out);
/* Brings the AP up: interface, address, DHCP/DNS, radio. READY follows. @return 0 or -1 (logged). */
int wifiprovd_ap_start(struct wifiprovd_ap *ap);
/*
 * Before a station attempt on a network on @p channel (0 = not known): keeps the AP up when
 * the radio can run AP + station at once and either uses several channels or the network is
 * on the AP's channel; otherwise takes the radio side down (wifiprovd_ap_resume brings it
 * back). @return true when the AP stays up.
 */
bool wifiprovd_ap_before_attempt(struct wifiprovd_ap *ap, unsigned channel);
/* After a failed attempt: brings a suspended AP back (READY follows). */
void wifiprovd_ap_resume(struct wifiprovd_ap *ap);
/* Removes everything the start made (synchronous). Safe to call twice. */
void wifiprovd_ap_stop(struct wifiprovd_ap *ap);
void wifiprovd_ap_free(struct wifiprovd_ap *ap);

/* ---- shared by the implementations (ap.c) ------------------------------------------ */

/* Runs a program (argv[0] a path or a name in PATH) and waits. @return its exit status, or -1. */
int wifiprovd__ap_run(const char *const *argv, bool quiet);
/* Starts a supervised child: stdin /dev/null, output to the daemon's stderr, signals reset. */
int wifiprovd__ap_spawn(const char *const *argv, pid_t *pid);
/* SIGTERM, up to 2 s, then SIGKILL; reaps it. */
void wifiprovd__ap_kill(pid_t pid);
/* Stops a supervised child: its sd-event source first (so its exit is not reported), then the process;
 * removes its pid file @p pidfile of the runtime dir. */
void wifiprovd__ap_child_stop(struct wifiprovd_ap *ap, sd_event_source **child, pid_t *pid, const char *pidfile);
/* Kills the process in the pid file @p name of the runtime dir when its command line names the
 * runtime dir; removes the file. */
void wifiprovd__ap_kill_pidfile(struct wifiprovd_ap *ap, const char *name);
int wifiprovd__ap_write_file(struct wifiprovd_ap *ap, const char *name, const char *text, char *path, size_t cap);
void wifiprovd__ap_path(const struct wifiprovd_ap *ap, const char *name, char *path, size_t cap);
/* Reads a small file (up to @p cap - 1 bytes), trailing newlines and blanks cut. @return 0 or -1. */
int wifiprovd__ap_read_file(const char *path, char *buf, size_t cap);
/* Starts dnsmasq on ap->ifname (DHCP + DNS for every name). @return 0 or -1 (logged). */
int wifiprovd__ap_dnsmasq_start(struct wifiprovd_ap *ap);
void wifiprovd__ap_dnsmasq_stop(struct wifiprovd_ap *ap);
/* Puts 192.168.4.1/24 on ap->ifname (the hostapd path; NetworkManager sets its own). */
int wifiprovd__ap_address_add(struct wifiprovd_ap *ap);
/* Reports an event to the daemon. */
void wifiprovd__ap_report(struct wifiprovd_ap *ap, enum wifiprovd_ap_event ev, const char *detail);
/* The interface's MAC as text. */
void wifiprovd__ap_mac_text(const uint8_t mac[6], char out[18]);

/*
 * Reads `iw phy PHY info` text: does one valid interface combination allow a managed
 * (station) and an AP interface at once, and how many channels at most? @return true
 * when it does; *channels = the largest "#channels <= N" of such combinations.
 */
bool wifiprovd_ap_parse_combinations(const char *iw_info, unsigned *channels);
/* Reads "channel N (... MHz)" of `iw dev IF info` text. @return the channel or 0. */
unsigned wifiprovd_ap_parse_iw_channel(const char *iw_info);

extern const struct wifiprovd_ap_ops wifiprovd_ap_hostapd_ops;
#ifdef WIFIPROVD_HAVE_AP_NM
extern const struct wifiprovd_ap_ops wifiprovd_ap_nm_ops;
#endif

#endif
