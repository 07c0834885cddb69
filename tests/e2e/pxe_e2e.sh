#!/bin/sh
# The bare-metal lifecycle end to end on real VMs (CTest label e2e).
#
#   unshare -rn --pid --fork --mount-proc --kill-child tests/e2e/pxe_e2e.sh N
#
# Inside a new user, network and PID namespace (made by the unshare above; nothing reaches the
# host's network): a bridge 10.99.0.1/24, a real `gantry serve` that writes the dnsmasq
# configuration it owns, dnsmasq (DHCP + TFTP with Debian's iPXE) started from that
# configuration, and N QEMU VMs whose power and boot device are driven over IPMI by OpenIPMI's
# ipmi_sim (one per VM, chassis.sh turning chassis commands into QEMU processes). Then:
#   1. every VM is switched on once by hand (IPMI, boot device PXE), as a technician would a new
#      machine: its DHCP request makes Gantry enlist it (`discovered`);
#   2. Gantry commissions it: the inventory initramfs (built here from Debian's kernel and
#      busybox) reports CPUs, memory, disks and MACs back into the CMDB;
#   3. Gantry deploys it: the installer fetches its rendered config with its one-time token,
#      writes the image and a marker to its disk, calls back; the marker is read back from the
#      qcow2 afterwards;
#   4. Gantry releases it: the disk is wiped (the marker is gone).
# When this script exits (or is killed, e.g. by the CTest timeout) the PID namespace ends and
# the kernel kills every process it started; the network namespace disappears with them.
#
# env: GANTRY_BIN (required), GANTRY_KERNEL_CACHE (default /var/cache/gantry/kernel, filled by
# scripts/bootstrap), PXE_RUN (run dir, default a new /tmp dir), E2E_BARE=1 (before the
# deploy, time the bare boot of the same VMs without Gantry: bench/lifecycle/run.sh vms),
# E2E_OP_TIMEOUT (seconds a VM has to call back, default 600).
set -eu
N=${1:-1}
W=$(cd "$(dirname "$0")" && pwd)
G=${GANTRY_BIN:?set GANTRY_BIN to the gantry binary}
KC=${GANTRY_KERNEL_CACHE:-/var/cache/gantry/kernel}
export PXE_RUN=${PXE_RUN:-$(mktemp -d /tmp/gantry-e2e.XXXXXX)}
R=$PXE_RUN
SKIP=77
say() { echo "[e2e $(date +%H:%M:%S)] $*"; }
die() { say "FAILED: $*"; for f in $R/serve.log $R/pxe/dnsmasq.log $R/serial0.log; do [ -f $f ] && { echo "--- tail $f"; tail -n 40 $f; }; done; exit 1; }

for tool in qemu-system-x86_64 qemu-img ipmi_sim ipmitool dnsmasq busybox ip; do
  command -v $tool >/dev/null 2>&1 || { say "SKIP: $tool is not installed (scripts/bootstrap)"; exit $SKIP; }
done
[ -f $KC/version ] || { say "SKIP: no cached Debian kernel in $KC (run scripts/bootstrap)"; exit $SKIP; }
KV=$(cat $KC/version)
[ -f $KC/root/boot/vmlinuz-$KV ] || { say "SKIP: $KC/root/boot/vmlinuz-$KV missing"; exit $SKIP; }
# PID 1 of its own PID namespace (so everything it starts dies with it), in a fresh network namespace.
[ $$ = 1 ] && ! ip link show br0 >/dev/null 2>&1 || { say "run me under unshare -rn --pid --fork --mount-proc --kill-child"; exit 2; }

mkdir -p $R/img $R/data
say "run dir $R, $N VM(s), kernel $KV"
# ---- the private network ------------------------------------------------------------------
ip link set lo up
ip link add br0 type bridge
ip addr add 10.99.0.1/24 dev br0
ip addr add fd99::1/64 dev br0 nodad
ip link set br0 up

# ---- images: Debian's kernel + the agent initramfs, and a fake OS image --------------------
sh $W/build-initramfs.sh $KC/root $KV $R/img/initrd
cp $KC/root/boot/vmlinuz-$KV $R/img/kernel
head -c 1048576 /dev/urandom > $R/img/rootfs
sha() { sha256sum "$1" | cut -d' ' -f1; }

# ---- Gantry ---------------------------------------------------------------------------------
DB=sqlite:$R/gantry.db
echo "e2e-admin-password" | $G admin init --db $DB --data-dir $R/data --admin-username admin --password-stdin --token > $R/init.out
export GANTRY_TOKEN=$(sed -n 's/^Admin API token (shown once): //p' $R/init.out)
export GANTRY_SERVER=http://10.99.0.1:8080
[ -n "$GANTRY_TOKEN" ] || die "admin init printed no token"
$G serve --db $DB --data-dir $R/data --listen 10.99.0.1:8080 --workers 8 \
  --boot-url http://10.99.0.1:8080 --pxe-dir $R/pxe --dhcp-interface br0 \
  --dhcp-range 10.99.0.100,10.99.0.199 --op-timeout ${E2E_OP_TIMEOUT:-600} --lease-scan-ms 200 \
  --kernel-args "console=ttyS0 quiet" --ssh-key "ssh-ed25519 AAAAC3NzaE2E e2e@gantry" \
  > $R/serve.log 2>&1 &
for i in $(seq 1 100); do [ -f $R/pxe/dnsmasq.conf ] && $G whoami >/dev/null 2>&1 && break; sleep 0.2; done
$G whoami >/dev/null || die "gantry serve did not come up"
dnsmasq --no-daemon -C $R/pxe/dnsmasq.conf 2>$R/dnsmasq.err &
echo $! > $R/pxe/dnsmasq.pid
for img in inventory installer; do
  $G image add $img --kernel $R/img/kernel --kernel-sha256 $(sha $R/img/kernel) \
    --initrd $R/img/initrd --initrd-sha256 $(sha $R/img/initrd) \
    --rootfs $R/img/rootfs --rootfs-sha256 $(sha $R/img/rootfs) --description "e2e agent" >/dev/null \
    || die "image add $img"
done
say "gantry serve, dnsmasq and images ready"

# ---- the machines: disks and BMCs -------------------------------------------------------------
for i in $(seq 0 $((N-1))); do
  ip tuntap add dev tap$i mode tap; ip link set tap$i master br0 up
  qemu-img create -q -f qcow2 $R/disk$i.qcow2 2G
  mkdir -p $R/bmc$i
  sed -e "s|@W@|$W|g" -e "s/@II@/$(printf %02d $i)/g" -e "s/@I@/$i/g" $W/lan.conf.in > $R/bmc$i/lan.conf
  ipmi_sim -n -c $R/bmc$i/lan.conf -f $W/sim.emu -s $R/bmc$i </dev/null >$R/ipmi_sim$i.out 2>&1 &
done
sleep 1
ipmi() { ipmitool -I lanplus -C 3 -H 127.0.0.1 -p $((9000+$1)) -U admin -P password chassis $2 $3; }
mac() { printf '52:54:00:99:00:%02x' $((0x10+$1)); }
name() { printf 'node-5254009900%02x' $((0x10+$1)); }
field() { $G node show "$1" -o json | python3 -c "import json,sys; print(json.load(sys.stdin).get('$2') or '')"; }
wait_state() {  # wait_state NODE STATE SECONDS   (a broken node fails at once)
  end=$(( $(date +%s) + $3 ))
  while :; do
    $G node show "$1" -o json > $R/node.json 2>/dev/null || true
    st=$(python3 -c "import json; d=json.load(open('$R/node.json')); print(d['state'], d.get('operation') or '-')" 2>/dev/null || echo "? ?")
    case "$st" in "$2 -") return 0 ;; "broken -") [ "$2" = broken ] || return 1 ;; esac
    [ $(date +%s) -lt $end ] || return 1
    sleep 0.5
  done; }

# ---- 1. discovery: a technician switches the new machines on once ------------------------------
for i in $(seq 0 $((N-1))); do ipmi $i bootdev pxe >/dev/null; ipmi $i power on >/dev/null; done
for i in $(seq 0 $((N-1))); do
  wait_state $(name $i) discovered 120 || die "$(name $i) was not discovered from its DHCP request"
  say "$(name $i) discovered from DHCP (address $(field $(name $i) last_ip))"
done
for i in $(seq 0 $((N-1))); do ipmi $i power off >/dev/null; done

# ---- its BMC: the hardware module drives power and boot device over IPMI ---------------------
. $W/bmc.sh
for i in $(seq 0 $((N-1))); do register_bmc $i $(name $i) || die "cannot register the BMC of $(name $i)"; done

# ---- 2. commission ------------------------------------------------------------------------------
for i in $(seq 0 $((N-1))); do $G node commission $(name $i) >/dev/null || die "commission $(name $i)"; done
for i in $(seq 0 $((N-1))); do
  wait_state $(name $i) ready 240 || die "$(name $i) not ready after commissioning: $(field $(name $i) state) $(field $(name $i) reason)"
done
for i in $(seq 0 $((N-1))); do
  $G ci show server/$(name $i) -o json > $R/ci$i.json
  python3 - $R/ci$i.json "$(mac $i)" <<'PY' || die "commissioning inventory missing from the CMDB"
import json, sys
ci = json.load(open(sys.argv[1]))
ci = ci.get("ci", ci)
attrs = ci["attributes"]
assert attrs.get("cpu_cores") == 1, attrs
assert attrs.get("memory_gib", 0) >= 1, attrs
assert attrs.get("lifecycle") == "ready", attrs
PY
  $G ci show nic/$(name $i):eth0 -o json | grep -q "$(mac $i)" || die "NIC of $(name $i) not in the CMDB"
  $G ci show storage_volume/$(name $i):vda -o json >/dev/null || die "disk of $(name $i) not in the CMDB"
  say "$(name $i) commissioned: 1 CPU, its NIC and 2 GiB disk in the CMDB"
done

# ---- (benchmark) the same boot without Gantry ---------------------------------------------------
# Same dnsmasq configuration, except that boot.ipxe chains to a static server; the VMs are
# switched on over IPMI with boot device PXE; timed from power-on to the agent's callback.
if [ -n "${E2E_BARE:-}" ]; then
  kill $(cat $R/pxe/dnsmasq.pid); sleep 0.5
  mkdir -p $R/bare/tftp; cp $R/pxe/tftp/undionly.kpxe $R/bare/tftp/
  printf '#!ipxe\nchain http://10.99.0.1:8081/boot/ipxe?mac=${net0/mac}\n' > $R/bare/tftp/boot.ipxe
  sed -e "s|tftp-root=.*|tftp-root=$R/bare/tftp|" -e "s|dhcp-leasefile=.*|dhcp-leasefile=$R/bare/leases|" \
      -e "s|pid-file=.*|pid-file=$R/bare/dnsmasq.pid|" -e "s|log-facility=.*|log-facility=$R/bare/dnsmasq.log|" \
      $R/pxe/dnsmasq.conf > $R/bare/dnsmasq.conf
  dnsmasq --no-daemon -C $R/bare/dnsmasq.conf 2>$R/bare/dnsmasq.err & BARE_DNSMASQ=$!
  python3 $W/bare_server.py 10.99.0.1 8081 $R/img $R & BARE_HTTP=$!
  sleep 0.5
  B0=$(date +%s.%N)
  for i in $(seq 0 $((N-1))); do ipmi $i bootdev pxe >/dev/null; ipmi $i power on >/dev/null; done
  for i in $(seq 0 $((N-1))); do
    f=$R/bare-done-$(mac $i | tr -d :); w=0
    while [ ! -f $f ]; do w=$((w+1)); [ $w -le 1200 ] || die "bare boot of VM $i timed out"; sleep 0.25; done
  done
  B1=$(date +%s.%N)
  say "bare boot (no Gantry) for $N VM(s): $(echo "$B1 - $B0" | bc) s"
  echo "bare $N $(echo "$B1 - $B0" | bc)" >> $R/bench.txt
  for i in $(seq 0 $((N-1))); do
    for w in $(seq 1 40); do ipmi $i power status | grep -q off && break; sleep 0.25; done
    ipmi $i power off >/dev/null
  done
  kill $BARE_DNSMASQ $BARE_HTTP; wait $BARE_DNSMASQ 2>/dev/null || true
  dnsmasq --no-daemon -C $R/pxe/dnsmasq.conf 2>>$R/dnsmasq.err &
  echo $! > $R/pxe/dnsmasq.pid
  sleep 0.5
fi

# ---- 3. deploy ----------------------------------------------------------------------------------
T0=$(date +%s.%N)
for i in $(seq 0 $((N-1))); do $G node deploy $(name $i) --var disk=/dev/vda >/dev/null || die "deploy $(name $i)"; done
for i in $(seq 0 $((N-1))); do
  wait_state $(name $i) deployed 240 || die "$(name $i) not deployed: $(field $(name $i) state) $(field $(name $i) reason)"
done
T1=$(date +%s.%N)
say "deploy → deployed for $N VM(s): $(echo "$T1 - $T0" | bc) s"
echo "gantry $N $(echo "$T1 - $T0" | bc)" >> $R/bench.txt
marker() {  # the 512 bytes at sector 2048 of VM $1's disk, NULs dropped
  qemu-img dd -f qcow2 -O raw if=$R/disk$1.qcow2 of=$R/head$1 bs=1M count=2 2>/dev/null
  dd if=$R/head$1 bs=512 skip=2048 count=1 2>/dev/null | tr -d '\0'; }
for i in $(seq 0 $((N-1))); do
  for w in $(seq 1 20); do ipmi $i power status | grep -q off && break; sleep 0.5; done
  m=$(marker $i)
  [ "$m" = "provisioned $(name $i) $(mac $i)" ] || die "marker on disk $i is '$m'"
  say "disk of $(name $i): '$m'"
done
$G jobs list -o json > $R/jobs.json
grep -q "second config fetch refused" $R/serve.log $R/serial*.log 2>/dev/null || true

# ---- 4. release -------------------------------------------------------------------------------
for i in $(seq 0 $((N-1))); do $G node release $(name $i) >/dev/null || die "release $(name $i)"; done
for i in $(seq 0 $((N-1))); do
  wait_state $(name $i) ready 240 || die "$(name $i) not ready after release: $(field $(name $i) state) $(field $(name $i) reason)"
  for w in $(seq 1 20); do ipmi $i power status | grep -q off && break; sleep 0.5; done
  m=$(marker $i)
  [ -z "$m" ] || die "disk $i still holds '$m' after release"
  say "$(name $i) released; its disk is wiped"
done
$G admin audit verify --db $DB --data-dir $R/data -q || die "audit verify"
say "PASS"
