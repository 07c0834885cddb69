#!/bin/sh
# runvm.sh IDX -- one e2e VM (QEMU, software emulation: KVM does not work on the test machine)
# env: PXE_RUN (run dir), BOOT=pxe|disk, ACCEL=tcg|kvm
I=$1; R=$PXE_RUN
if [ "${BOOT:-pxe}" = pxe ]; then NB=1; DB=2; else NB=2; DB=1; fi
if [ "${ACCEL:-tcg}" = kvm ]; then A="-accel kvm"; else A="-accel tcg,tb-size=32"; fi
exec qemu-system-x86_64 $A -machine q35,graphics=off -m ${VM_MEM:-128} -smp 1 -name node$I \
  -nodefaults -display none -serial file:$R/serial$I.log \
  -netdev tap,id=n0,ifname=tap$I,script=no,downscript=no \
  -device virtio-net-pci,netdev=n0,mac=52:54:00:99:00:$(printf %02x $((0x10+I))),bootindex=$NB \
  -drive file=$R/disk$I.qcow2,if=none,id=d0,format=qcow2 \
  -device virtio-blk-pci,drive=d0,bootindex=$DB \
  -qmp unix:$R/qmp$I.sock,server=on,wait=off -pidfile $R/qemu$I.pid
