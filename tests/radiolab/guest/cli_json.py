#!/usr/bin/python3
"""Summarises the JSON lines of `wifiprov ... --json --progress` for the lab's checks.

provision: prints "state=.. reason=.. ip=.. ssid=.. channel=.. apply_to_result_ms=.. elapsed_ms=.."
scan:      prints "AP ssid=.. auth=.. channel=.. rssi=.." per network, then "n=.."
"""
import json
import sys

objs = []
for line in sys.stdin:
    line = line.strip()
    if line.startswith("{"):
        try:
            objs.append(json.loads(line))
        except ValueError:
            pass
if not objs:
    print("nojson")
    sys.exit(0)
final = objs[-1]
applied = [o for o in objs if o.get("event") == "applied"]
if sys.argv[1:] == ["scan"]:
    nets = final.get("networks") or final.get("aps") or final.get("results") or []
    for n in nets:
        print("AP ssid=%s auth=%s channel=%s rssi=%s" % (n.get("ssid"), n.get("auth"), n.get("channel"), n.get("rssi")))
    print("n=%d" % len(nets))
else:
    out = {k: final.get(k) for k in ("state", "reason", "ip", "ssid", "channel", "error", "elapsed_ms")}
    if applied and final.get("elapsed_ms") is not None:
        out["apply_to_result_ms"] = int(final["elapsed_ms"] - applied[-1]["elapsed_ms"])
    print(" ".join("%s=%s" % (k, v) for k, v in out.items() if v is not None))
