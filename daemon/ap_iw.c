/*
 * What the SoftAP needs to know from `iw` (ap.h): whether the radio's interface combinations
 * allow an AP beside a station, and on how many channels, and the station's channel. The
 * kernel reports both through nl80211; `iw` prints them, and this reads that text.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ap.h"

static bool group_has(const char *group, size_t len, const char *word)
{
    size_t wl = strlen(word);

    for (size_t i = 0; i + wl <= len; i++) {
        if (memcmp(group + i, word, wl) == 0 && (i == 0 || group[i - 1] == ' ' || group[i - 1] == '{' ||
                                                 group[i - 1] == ',') &&
            (i + wl == len || group[i + wl] == ' ' || group[i + wl] == ',' || group[i + wl] == '}'))
            return true;
    }
    return false;
}

/* One combination: "#{ managed } <= 1, #{ AP, mesh point } <= 1, total <= 2, #channels <= 1" */
static bool combination_ok(const char *c, size_t len, unsigned *channels)
{
    bool sta = false, ap = false, same = false;
    unsigned total = 0, chans = 1;
    const char *p = c, *end = c + len;

    while (p < end) {
        const char *open = memchr(p, '{', (size_t)(end - p)), *close;
        unsigned limit = 0;
        if (!open)
            break;
        close = memchr(open, '}', (size_t)(end - open));
        if (!close)
            break;
        {
            const char *le = strstr(close, "<=");
            if (le && le < end)
                limit = (unsigned)strtoul(le + 2, NULL, 10);
        }
        bool has_sta = group_has(open + 1, (size_t)(close - open - 1), "managed");
        bool has_ap = group_has(open + 1, (size_t)(close - open - 1), "AP");
        if (has_sta && has_ap && limit >= 2)
            same = true;
        sta = sta || has_sta;
        ap = ap || has_ap;
        p = close + 1;
    }
    {
        const char *t = c;
        while ((t = strstr(t, "total <=")) && t < end) {
            total = (unsigned)strtoul(t + 8, NULL, 10);
            t += 8;
        }
        t = c;
        while ((t = strstr(t, "#channels <=")) && t < end) {
            chans = (unsigned)strtoul(t + 12, NULL, 10);
            t += 12;
        }
    }
    *channels = chans ? chans : 1;
    return ((sta && ap) || same) && total >= 2;
}

bool wifiprovd_ap_parse_combinations(const char *info, unsigned *channels)
{
    const char *p = strstr(info, "valid interface combinations:");
    bool found = false;

    *channels = 1;
    if (!p)
        return false;
    p = strchr(p, '\n');
    while (p && *p) {
        const char *star, *next;
        /* A combination starts with "* " and continues on lines that do not start a new one. */
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p != '*')
            break;
        star = p;
        next = star + 1;
        for (;;) {
            const char *nl = strchr(next, '\n'), *q;
            if (!nl) {
                next = star + strlen(star);
                break;
            }
            q = nl + 1;
            while (*q == ' ' || *q == '\t')
                q++;
            /* Continuation lines carry "total <=", "#channels" or more groups; a new item or section does not. */
            if (*q == '*' || *q == '\0' || (q[0] != '#' && q[0] != 't' && q[0] != '=')) {
                next = nl;
                break;
            }
            next = nl + 1;
        }
        {
            unsigned ch = 1;
            if (combination_ok(star, (size_t)(next - star), &ch)) {
                if (!found || ch > *channels)
                    *channels = ch;
                found = true;
            }
        }
        p = next;
        if (*p != '\n')
            break;
    }
    return found;
}

unsigned wifiprovd_ap_parse_iw_channel(const char *info)
{
    const char *p = info;

    while ((p = strstr(p, "channel "))) {
        if (p == info || p[-1] == '\t' || p[-1] == ' ' || p[-1] == '\n') {
            unsigned ch = (unsigned)strtoul(p + 8, NULL, 10);
            if (ch)
                return ch;
        }
        p += 8;
    }
    return 0;
}

