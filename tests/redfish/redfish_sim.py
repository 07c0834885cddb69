#!/usr/bin/python3
"""A stateful Redfish BMC simulator for Gantry's tests and benchmark.

No real BMC runs on the test machine: this program STANDS IN FOR REAL BMCs. It serves the DMTF
and HPE Cray mockups in tests/data/redfish-mockups (static resource trees) and adds the state a
BMC keeps: power state, boot override (with ETags and If-Match), SEL clearing, virtual media,
SimpleUpdate with a task that progresses over time, sessions, and basic auth.

One process emulates many BMCs: BMC i listens on its own port on 127.0.0.1 (asyncio, so a
thousand BMCs cost one thread). Injectable faults per BMC, set at start (--dead-fraction) or at
run time through an unauthenticated control resource on the BMC's own port:
    POST /_sim/fault {"fault": NAME}      NAME: none | timeout | http500 | malformed | truncated |
                                          wrong_types | huge | badauth | fw_fail | fw_lie |
                                          foreign_location
    GET  /_sim/state                      power, boot, media, firmware versions, requests seen,
                                          the last If-Match header, open sessions
Bad TLS is a matter of the client's trust: with --tls-cert every BMC speaks HTTPS with that
(self-signed) certificate.

The mockups predate the VirtualMedia InsertMedia/EjectMedia actions; like current BMC firmware
the simulator offers them on media resources that do not list them.

Usage: redfish_sim.py --mockup DIR [--mockup DIR ...] [--count N] [--latency-ms MS]
         [--dead-fraction F] [--seed S] [--task-seconds S] [--user U --password P]
         [--tls-cert PEM --tls-key PEM] --ports-file FILE
The ports file (written once every BMC listens) is JSON: [{"index", "port", "mockup", "dead"}].
"""
import argparse
import asyncio
import base64
import copy
import json
import os
import random
import resource
import ssl
import sys
import time
import urllib.parse

ROOT = "/redfish/v1"


def load_mockup(directory):
    tree = {}
    base = os.path.join(directory, "redfish", "v1")
    for dirpath, _, files in os.walk(base):
        if "index.json" not in files:
            continue
        rel = os.path.relpath(dirpath, base)
        path = ROOT if rel == "." else ROOT + "/" + rel.replace(os.sep, "/")
        with open(os.path.join(dirpath, "index.json"), encoding="utf-8") as f:
            try:
                tree[path] = json.load(f)
            except json.JSONDecodeError:
                continue
    # Current BMC firmware offers InsertMedia/EjectMedia; the mockups predate them.
    for path, res in tree.items():
        if "/VirtualMedia/" in path and isinstance(res, dict) and "MediaTypes" in res:
            actions = res.setdefault("Actions", {})
            actions.setdefault("#VirtualMedia.InsertMedia", {"target": path + "/Actions/VirtualMedia.InsertMedia"})
            actions.setdefault("#VirtualMedia.EjectMedia", {"target": path + "/Actions/VirtualMedia.EjectMedia"})
    return tree


def redfish_error(message, code="Base.1.0.GeneralError"):
    return {"error": {"code": code, "message": message,
                      "@Message.ExtendedInfo": [{"MessageId": code, "Message": message}]}}


class Bmc:
    def __init__(self, index, name, tree, args, dead):
        self.index = index
        self.mockup = name
        self.base = tree
        self.overlay = {}
        self.args = args
        self.dead = dead
        self.fault = "none"
        self.etag = 1
        self.requests = 0
        self.last_if_match = None
        self.sessions = {}
        self.tasks = {}
        self.next_id = 1
        self.actions = []

    # -- resources --------------------------------------------------------------------------
    def get(self, path):
        if path in self.overlay:
            return self.overlay[path]
        return self.base.get(path)

    def mutable(self, path):
        if path not in self.overlay:
            if path not in self.base:
                return None
            self.overlay[path] = copy.deepcopy(self.base[path])
        return self.overlay[path]

    def systems(self):
        coll = self.get(ROOT + "/Systems") or {}
        return [m.get("@odata.id") for m in coll.get("Members", []) if isinstance(m, dict)]

    def system_of(self, path):
        for s in self.systems():
            if path == s or path.startswith(s + "/"):
                return s
        return None

    # -- tasks ------------------------------------------------------------------------------
    def task_json(self, tid):
        t = self.tasks[tid]
        elapsed = time.monotonic() - t["start"]
        total = self.args.task_seconds
        doc = {"@odata.id": "%s/TaskService/Tasks/%s" % (ROOT, tid), "@odata.type": "#Task.v1_7_4.Task",
               "Id": tid, "Name": "Firmware update %s" % tid, "TaskStatus": "OK", "Messages": []}
        if elapsed < total:
            doc["TaskState"] = "Running"
            doc["PercentComplete"] = int(100 * elapsed / total)
            return doc
        if not t["finished"]:
            t["finished"] = True
            if t["fail"]:
                t["state"] = "Exception"
            else:
                t["state"] = "Completed"
                if not t["lie"]:
                    fw = self.mutable(t["target"])
                    if fw is not None:
                        fw["Version"] = t["version"]
        doc["TaskState"] = t["state"]
        doc["PercentComplete"] = 100
        if t["state"] == "Exception":
            doc["TaskStatus"] = "Critical"
            doc["Messages"] = [{"MessageId": "Update.1.0.VerificationFailed", "Severity": "Critical",
                                "Message": "Verification of image '%s' failed" % t["image"]}]
        else:
            doc["Messages"] = [{"MessageId": "Update.1.0.UpdateSuccessful", "Severity": "OK",
                                "Message": "Update of %s successful" % t["target"].rsplit("/", 1)[-1]}]
        return doc

    # -- requests ---------------------------------------------------------------------------
    def authorized(self, headers):
        if self.fault == "badauth":
            return False
        token = headers.get("x-auth-token")
        if token and token in self.sessions:
            return True
        auth = headers.get("authorization", "")
        if auth.startswith("Basic "):
            try:
                user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
            except Exception:
                return False
            return user == self.args.user and pw == self.args.password
        return False

    def handle(self, method, path, headers, body):
        """Returns (status, headers, body object or bytes)."""
        self.requests += 1
        path = urllib.parse.urlsplit(path).path
        if len(path) > 1 and path.endswith("/"):
            path = path[:-1]
        if path in (ROOT, "/redfish"):
            if path == "/redfish":
                return 200, {}, {"v1": ROOT + "/"}
            return 200, {}, self.get(ROOT)
        if method == "POST" and path == ROOT + "/SessionService/Sessions":
            try:
                creds = json.loads(body or b"{}")
            except ValueError:
                return 400, {}, redfish_error("malformed JSON")
            if self.fault == "badauth" or creds.get("UserName") != self.args.user or \
                    creds.get("Password") != self.args.password:
                return 401, {}, redfish_error("Invalid credentials", "Base.1.0.NoValidSession")
            sid = str(self.next_id)
            self.next_id += 1
            token = base64.b32encode(os.urandom(15)).decode()
            self.sessions[token] = sid
            loc = ROOT + "/SessionService/Sessions/" + sid
            return 201, {"X-Auth-Token": token, "Location": loc}, {"@odata.id": loc, "Id": sid, "UserName": self.args.user}
        if not self.authorized(headers):
            return 401, {"WWW-Authenticate": 'Basic realm="BMC"'}, redfish_error("authentication required", "Base.1.0.NoValidSession")
        if method == "DELETE" and path.startswith(ROOT + "/SessionService/Sessions/"):
            sid = path.rsplit("/", 1)[-1]
            for tok, s in list(self.sessions.items()):
                if s == sid:
                    del self.sessions[tok]
                    return 204, {}, None
            return 404, {}, redfish_error("no such session")
        if method == "GET":
            if path.startswith(ROOT + "/TaskService/Tasks/") and path.rsplit("/", 1)[-1] in self.tasks:
                tid = path.rsplit("/", 1)[-1]
                doc = self.task_json(tid)
                return (202 if doc["TaskState"] == "Running" else 200), {}, doc
            res = self.get(path)
            if res is None:
                return 404, {}, redfish_error("resource not found: " + path, "Base.1.0.ResourceMissingAtURI")
            extra = {}
            if self.system_of(path) == path:
                extra["ETag"] = '"%d"' % self.etag
            return 200, extra, res
        if method == "PATCH":
            sysp = self.system_of(path)
            if sysp != path:
                return 405, {}, redfish_error("PATCH is not supported here")
            self.last_if_match = headers.get("if-match")
            if self.last_if_match is not None and self.last_if_match != '"%d"' % self.etag:
                return 412, {}, redfish_error("ETag does not match", "Base.1.0.PreconditionFailed")
            try:
                patch = json.loads(body or b"{}")
            except ValueError:
                return 400, {}, redfish_error("malformed JSON")
            res = self.mutable(path)
            boot = patch.get("Boot")
            if not isinstance(boot, dict) or "Boot" not in res or "BootSourceOverrideTarget" not in res["Boot"]:
                return 400, {}, redfish_error("only Boot override properties can be changed")
            allowed = res["Boot"].get("BootSourceOverrideTarget@Redfish.AllowableValues")
            target = boot.get("BootSourceOverrideTarget")
            if target is not None and allowed and target not in allowed:
                return 400, {}, redfish_error("BootSourceOverrideTarget %s is not allowed" % target,
                                              "Base.1.0.PropertyValueNotInList")
            for k in ("BootSourceOverrideTarget", "BootSourceOverrideEnabled", "BootSourceOverrideMode"):
                if k in boot:
                    res["Boot"][k] = boot[k]
            self.etag += 1
            self.actions.append({"action": "boot", "target": res["Boot"].get("BootSourceOverrideTarget"),
                                 "enabled": res["Boot"].get("BootSourceOverrideEnabled")})
            return 204, {}, None
        if method == "POST" and "/Actions/" in path:
            try:
                args = json.loads(body or b"{}")
            except ValueError:
                return 400, {}, redfish_error("malformed JSON")
            if not isinstance(args, dict):
                return 400, {}, redfish_error("the body must be an object")
            return self.action(path, args)
        return 405, {}, redfish_error("method not allowed")

    def action(self, path, args):
        owner, _, name = path.partition("/Actions/")
        name = name.split(".")[-1] if "." in name else name
        if name == "Reset" and self.system_of(owner) == owner:
            res = self.mutable(owner)
            act = res.get("Actions", {}).get("#ComputerSystem.Reset", {})
            allowed = act.get("ResetType@Redfish.AllowableValues")
            if allowed is None and "@Redfish.ActionInfo" in act:
                info = self.get(act["@Redfish.ActionInfo"]) or {}
                for p in info.get("Parameters", []):
                    if p.get("Name") == "ResetType":
                        allowed = p.get("AllowableValues")
            rt = args.get("ResetType")
            if not isinstance(rt, str) or (allowed and rt not in allowed):
                return 400, {}, redfish_error("ResetType %r is not allowed" % (rt,), "Base.1.0.ActionParameterValueNotInList")
            if rt in ("On", "ForceOn", "ForceRestart", "GracefulRestart", "PowerCycle", "PushPowerButton", "Nmi"):
                res["PowerState"] = "On"
            elif rt in ("ForceOff", "GracefulShutdown"):
                res["PowerState"] = "Off"
            self.etag += 1
            self.actions.append({"action": "reset", "type": rt})
            return 204, {}, None
        if name == "ClearLog":
            entries = self.mutable(owner + "/Entries")
            if entries is not None:
                entries["Members"] = []
                entries["Members@odata.count"] = 0
            self.actions.append({"action": "clear_log", "service": owner})
            return 204, {}, None
        if name in ("InsertMedia", "EjectMedia"):
            media = self.mutable(owner)
            if media is None:
                return 404, {}, redfish_error("no such media")
            if name == "InsertMedia":
                image = args.get("Image")
                if not isinstance(image, str) or not image:
                    return 400, {}, redfish_error("Image is required", "Base.1.0.ActionParameterMissing")
                media.update({"Image": image, "Inserted": True, "ConnectedVia": "URI"})
            else:
                media.update({"Image": None, "Inserted": False, "ConnectedVia": "NotConnected"})
            self.actions.append({"action": name, "media": owner})
            return 204, {}, None
        if name == "SimpleUpdate" or path.endswith("/Actions/SimpleUpdate"):
            image = args.get("ImageURI")
            if not isinstance(image, str) or not image:
                return 400, {}, redfish_error("ImageURI is required", "Base.1.0.ActionParameterMissing")
            targets = args.get("Targets") or [ROOT + "/UpdateService/FirmwareInventory/BIOS"]
            if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
                return 400, {}, redfish_error("Targets must be a list of URIs")
            if self.get(targets[0]) is None:
                return 400, {}, redfish_error("no firmware %s" % targets[0], "Base.1.0.ResourceMissingAtURI")
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(image).query)
            version = query.get("version", [None])[0] or ((self.get(targets[0]) or {}).get("Version", "") + "-updated")
            tid = str(1000 + self.next_id)
            self.next_id += 1
            self.tasks[tid] = {"start": time.monotonic(), "target": targets[0], "version": version, "image": image,
                               "fail": self.fault == "fw_fail", "lie": self.fault == "fw_lie", "finished": False}
            self.actions.append({"action": "update", "image": image, "target": targets[0]})
            loc = "%s/TaskService/Tasks/%s" % (ROOT, tid)
            if self.fault == "foreign_location":  # a BMC that points its client elsewhere
                loc = "http://203.0.113.9" + loc
            return 202, {"Location": loc}, self.task_json(tid)
        return 400, {}, redfish_error("unsupported action " + name, "Base.1.0.ActionNotSupported")

    def state(self):
        out = {"index": self.index, "mockup": self.mockup, "fault": self.fault, "requests": self.requests,
               "last_if_match": self.last_if_match, "sessions": len(self.sessions), "actions": self.actions,
               "systems": {}, "firmware": {}}
        for s in self.systems():
            res = self.get(s) or {}
            out["systems"][s] = {"PowerState": res.get("PowerState"), "Boot": res.get("Boot")}
        inv = self.get(ROOT + "/UpdateService/FirmwareInventory") or {}
        for m in inv.get("Members", []):
            fw = self.get(m.get("@odata.id", "")) or {}
            out["firmware"][fw.get("Id", "?")] = fw.get("Version")
        media = {}
        for path in list(self.base.keys()) + list(self.overlay.keys()):
            if "/VirtualMedia/" in path:
                m = self.get(path) or {}
                if "MediaTypes" in m:
                    media[path] = {"Image": m.get("Image"), "Inserted": m.get("Inserted")}
        out["media"] = media
        return out


REASONS = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 400: "Bad Request", 401: "Unauthorized",
           404: "Not Found", 405: "Method Not Allowed", 412: "Precondition Failed", 500: "Internal Server Error"}


async def serve_connection(bmc, reader, writer, args):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
            length = int(headers.get("content-length", "0") or 0)
            body = await reader.readexactly(length) if length else b""
            if bmc.dead:
                await asyncio.sleep(3600)
                return
            if target.startswith("/_sim/"):
                status, extra, doc = control(bmc, method, target, body)
            else:
                if args.latency_ms:
                    await asyncio.sleep(args.latency_ms / 1000.0)
                fault = bmc.fault
                if fault == "timeout":
                    await asyncio.sleep(3600)
                    return
                if fault == "http500":
                    status, extra, doc = 500, {}, redfish_error("internal error")
                elif fault == "malformed" and method == "GET":
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{\"PowerState\": ")
                    await writer.drain()
                    continue
                elif fault == "truncated" and method == "GET":
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{\"Members\": [")
                    await writer.drain()
                    writer.close()
                    return
                elif fault == "huge" and method == "GET":
                    size = 64 << 20
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % size)
                    chunk = b" " * (1 << 20)
                    for _ in range(size >> 20):
                        writer.write(chunk)
                        await writer.drain()
                    continue
                else:
                    status, extra, doc = bmc.handle(method, target, headers, body)
                    if fault == "wrong_types" and isinstance(doc, dict) and status == 200:
                        doc = copy.deepcopy(doc)
                        if "PowerState" in doc:
                            doc["PowerState"] = 42
                        if "Members" in doc:
                            doc["Members"] = "all of them"
                        if "Version" in doc:
                            doc["Version"] = 2.3
            payload = b"" if doc is None else json.dumps(doc).encode()
            hdr = "HTTP/1.1 %d %s\r\n" % (status, REASONS.get(status, "Status"))
            if doc is not None:
                hdr += "Content-Type: application/json\r\nOData-Version: 4.0\r\n"
            for k, v in extra.items():
                hdr += "%s: %s\r\n" % (k, v)
            hdr += "Content-Length: %d\r\n\r\n" % len(payload)
            writer.write(hdr.encode("latin-1") + payload)
            await writer.drain()
            if headers.get("connection", "").lower() == "close":
                break
    except (asyncio.IncompleteReadError, ConnectionError, ValueError, asyncio.LimitOverrunError, ssl.SSLError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


def control(bmc, method, target, body):
    path = urllib.parse.urlsplit(target).path
    if path == "/_sim/state" and method == "GET":
        return 200, {}, bmc.state()
    if path == "/_sim/fault" and method == "POST":
        try:
            fault = json.loads(body or b"{}").get("fault", "none")
        except ValueError:
            return 400, {}, {"error": "malformed"}
        bmc.fault = fault
        return 200, {}, {"fault": fault}
    return 404, {}, {"error": "unknown control resource"}


async def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mockup", action="append", required=True)
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--latency-ms", type=float, default=0)
    ap.add_argument("--dead-fraction", type=float, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--task-seconds", type=float, default=1.0)
    ap.add_argument("--user", default="admin")
    ap.add_argument("--password", default="password")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--ports-file", required=True)
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    trees = [(os.path.basename(os.path.normpath(m)), load_mockup(m)) for m in args.mockup]
    ctx = None
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
    rng = random.Random(args.seed)
    dead = set(rng.sample(range(args.count), int(round(args.count * args.dead_fraction))))
    listing = []
    servers = []
    for i in range(args.count):
        name, tree = trees[i % len(trees)]
        bmc = Bmc(i, name, tree, args, i in dead)
        srv = await asyncio.start_server(lambda r, w, b=bmc: serve_connection(b, r, w, args),
                                         "127.0.0.1", 0, ssl=ctx, backlog=512, limit=1 << 16)
        servers.append(srv)
        listing.append({"index": i, "port": srv.sockets[0].getsockname()[1], "mockup": name, "dead": i in dead})
    tmp = args.ports_file + ".tmp"
    with open(tmp, "w") as f:
        json.dump(listing, f)
    os.rename(tmp, args.ports_file)
    print("redfish_sim: %d BMCs listening" % args.count, file=sys.stderr, flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
