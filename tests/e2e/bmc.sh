# Sourced by pxe_e2e.sh: registers VM IDX's ipmi_sim (127.0.0.1:9000+IDX) with the hardware
# module as the BMC of server NODE, and points the lifecycle node at it.
register_bmc() {  # register_bmc IDX NODE
  python3 - "$1" "$2" <<'PY'
import json, os, sys, urllib.request
idx, node = int(sys.argv[1]), sys.argv[2]
def call(method, path, body):
    req = urllib.request.Request(os.environ["GANTRY_SERVER"] + path, method=method,
                                 data=json.dumps(body).encode(),
                                 headers={"Authorization": "Bearer " + os.environ["GANTRY_TOKEN"],
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)
call("POST", "/api/v1/bmcs", {"name": "bmc-" + node, "address": "127.0.0.1:%d" % (9000 + idx),
                              "protocol": "ipmi", "server": node, "username": "admin", "password": "password"})
PY
}
