# The "without Gantry" side of bench/lifecycle/vm_bench: a static HTTP server that answers what
# a booting VM asks for with fixed answers (same kernel, initramfs and agent as through Gantry).
#   python3 bare_server.py ADDR PORT IMGDIR RUNDIR
import http.server, os, sys, time, urllib.parse

ADDR, PORT, IMG, RUN = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
BASE = "http://%s:%d" % (ADDR, PORT)


class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def send(self, body, ctype="text/plain"):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(u.query)
        if u.path == "/boot/ipxe":
            mac = q["mac"][0]
            bootif = "01-" + mac.replace(":", "-")
            host = "node-" + mac.replace(":", "")
            self.send(("#!ipxe\nkernel %s/kernel initrd=initrd console=ttyS0 quiet BOOTIF=%s gantry.url=%s "
                       "gantry.op=deploy gantry.node=%s gantry.callback=%s/callback?mac=%s gantry.config=%s/config?mac=%s\n"
                       "initrd %s/initrd\nboot\n" % (BASE, bootif, BASE, host, BASE, mac, BASE, mac, BASE)).encode())
        elif u.path == "/config":
            mac = q["mac"][0]
            host = "node-" + mac.replace(":", "")
            self.send(("HOSTNAME='%s'\nMAC='%s'\nDISK='/dev/vda'\nIMAGE_URL='%s/rootfs'\nMARKER='provisioned %s %s'\n"
                       % (host, mac, BASE, host, mac)).encode())
        elif u.path in ("/kernel", "/initrd", "/rootfs"):
            with open(os.path.join(IMG, u.path[1:]), "rb") as f:
                self.send(f.read(), "application/octet-stream")
        else:
            self.send_error(404)

    def do_POST(self):
        u = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(u.query)
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if u.path == "/callback":
            with open(os.path.join(RUN, "bare-done-" + q["mac"][0].replace(":", "")), "w") as f:
                f.write("t=%.3f\n" % time.time())
            self.send(b"{}", "application/json")
        else:
            self.send_error(404)


http.server.ThreadingHTTPServer((ADDR, PORT), H).serve_forever()
