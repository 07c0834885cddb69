#!/bin/sh
# build-initramfs.sh KROOT KVER OUT
# Builds the "Gantry agent" initramfs the e2e VMs boot: Debian's kernel modules for virtio
# (KROOT = dpkg -x of linux-image-KVER-amd64, cached by scripts/bootstrap), busybox-static and
# an /init that speaks Gantry's boot protocol: the kernel command line carries gantry.op,
# gantry.callback (one-time URL) and, for deploy, gantry.config (one-time URL).
#   commission: report CPUs, memory, disks and MACs with the callback
#   deploy:     fetch the rendered config, write the image and a marker to the disk, call back
#   release:    wipe the start of every disk, call back
# Any failure calls back with status "failed" when it can; the VM powers itself off at the end.
set -eu
KROOT=$1; KV=$2; OUT=$3; W=$(mktemp -d)
mkdir -p $W/bin $W/dev $W/proc $W/sys $W/tmp $W/etc $W/lib/modules
cp /bin/busybox $W/bin/busybox && ln -s busybox $W/bin/sh
D=$KROOT/lib/modules/$KV/kernel
for m in drivers/virtio/virtio_ring drivers/virtio/virtio net/core/failover drivers/net/net_failover \
         drivers/net/virtio_net drivers/block/virtio_blk drivers/virtio/virtio_pci_modern_dev \
         drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci; do
  f=$D/$m.ko; [ -f "$f" ] || f=$D/$m.ko.xz
  cp "$f" $W/lib/modules/
done
cat > $W/etc/udhcpc.script <<'S'
#!/bin/sh
case "$1" in
  bound|renew) ifconfig "$interface" "$ip" netmask "$subnet" up ;;
  deconfig) ifconfig "$interface" 0.0.0.0 ;;
esac
S
cat > $W/init <<'S'
#!/bin/sh
/bin/busybox --install -s /bin; export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
exec </dev/console >/dev/console 2>&1
log() { echo "[agent] $*"; echo "$*" >> /tmp/log; }
# JSON string escaping for the few characters busybox output may hold.
js() { printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' | tr -d '\n\r\t'; }
loglines() { first=1; while IFS= read -r l; do [ $first = 1 ] || printf ','; first=0; printf '"%s"' "$(js "$l")"; done < /tmp/log; }
callback() {  # callback STATUS MESSAGE [INVENTORY-JSON]
  [ -n "${CALLBACK:-}" ] || return 1
  inv=""; [ -n "${3:-}" ] && inv=",\"inventory\":$3"
  printf '{"status":"%s","message":"%s","log":[%s]%s}' "$1" "$(js "$2")" "$(loglines)" "$inv" > /tmp/report
  wget -q -O /dev/null --header 'Content-Type: application/json' --post-file /tmp/report "$CALLBACK"
}
fail() { log "FAILED: $*"; callback failed "$*" || true; sync; poweroff -f; }
for m in virtio_ring virtio failover net_failover virtio_net virtio_blk \
         virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci; do
  insmod /lib/modules/$m.ko* || { echo "insmod $m failed"; poweroff -f; }; done
for a in $(cat /proc/cmdline); do case $a in
  gantry.url=*) URL=${a#*=};; gantry.op=*) OP=${a#*=};; gantry.node=*) NODE=${a#*=};;
  gantry.callback=*) CALLBACK=${a#*=};; gantry.config=*) CONFIG=${a#*=};; BOOTIF=*) BOOTIF=${a#*=};; esac; done
MAC=$(echo "${BOOTIF#01-}" | tr - :); IF=""
for i in 1 2 3 4 5 6 7 8 9 10; do
  for d in /sys/class/net/*; do [ "$(cat $d/address)" = "$MAC" ] && IF=${d##*/}; done
  [ -n "$IF" ] && break; sleep 0.2; done
[ -n "$IF" ] || { echo "no NIC with MAC $MAC"; poweroff -f; }
ip link set lo up; ip link set "$IF" up
udhcpc -i "$IF" -s /etc/udhcpc.script -q -n -t 10 -T 1 || { echo "no DHCP answer"; poweroff -f; }
log "$OP of ${NODE:-?} on $IF ($MAC)"
case "${OP:-}" in
commission)
  cpus=$(grep -c '^processor' /proc/cpuinfo)
  mem=$(awk '/^MemTotal:/{print $2}' /proc/meminfo)
  disks=""; for b in /sys/block/vd* /sys/block/sd* /sys/block/nvme*; do [ -e "$b/size" ] || continue
    [ -n "$disks" ] && disks="$disks,"; disks="$disks{\"name\":\"${b##*/}\",\"size_bytes\":$(( $(cat $b/size) * 512 ))}"; done
  nics=""; for n in /sys/class/net/*; do [ "${n##*/}" = lo ] && continue
    [ -n "$nics" ] && nics="$nics,"; nics="$nics{\"name\":\"${n##*/}\",\"mac\":\"$(cat $n/address)\"}"; done
  log "inventory: $cpus cpus, $mem kB memory"
  callback ok "commissioned" "{\"cpus\":$cpus,\"memory_kib\":$mem,\"disks\":[$disks],\"nics\":[$nics]}" || fail "callback"
  ;;
deploy)
  [ -n "${CONFIG:-}" ] || fail "no gantry.config on the kernel command line"
  wget -q -O /tmp/node.conf "$CONFIG" || fail "fetch config"
  . /tmp/node.conf
  log "config: hostname=$HOSTNAME disk=$DISK"
  [ -b "$DISK" ] || fail "no disk $DISK"
  if [ -n "${IMAGE_URL:-}" ]; then
    wget -q -O - "$IMAGE_URL" | dd of="$DISK" bs=1M conv=fsync 2>/dev/null || fail "write image"
    log "image written to $DISK"
  fi
  printf '%s\n' "$MARKER" | dd of="$DISK" bs=512 seek=2048 conv=fsync 2>/dev/null || fail "write marker"
  sync
  # A second config fetch must be refused (one-time token).
  if wget -q -O /dev/null "$CONFIG" 2>/dev/null; then log "config token worked twice"; else log "second config fetch refused"; fi
  callback ok "deployed $HOSTNAME" || fail "callback"
  ;;
release)
  for b in /sys/block/vd* /sys/block/sd*; do [ -e "$b" ] || continue
    dd if=/dev/zero of=/dev/${b##*/} bs=1M count=4 conv=fsync 2>/dev/null || fail "wipe ${b##*/}"
    log "wiped ${b##*/}"; done
  sync
  callback ok "wiped" || fail "callback"
  ;;
*) fail "unknown operation '${OP:-}'" ;;
esac
log "done, powering off"; sync; poweroff -f
S
chmod +x $W/init $W/etc/udhcpc.script
(cd $W && find . | busybox cpio -o -H newc -R 0:0 2>/dev/null | gzip -9) > $OUT
rm -rf $W
