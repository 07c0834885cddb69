#!/bin/sh
# ipmi_sim's chassis_control program: chassis.sh IDX get|set PARM [VAL]...
# Turns IPMI chassis power and boot-device commands into QEMU processes (runvm.sh) and QMP.
I=$1; op=$2; shift 2
R=$PXE_RUN; PIDF=$R/qemu$I.pid; BOOTF=$R/bootdev$I; W=$(dirname "$0")
running() { [ -f $PIDF ] && kill -0 "$(cat $PIDF)" 2>/dev/null; }
qmp() { python3 -c 'import socket,sys,json
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f=s.makefile("rw"); f.readline()
for c in ("qmp_capabilities", sys.argv[2]): f.write(json.dumps({"execute": c})+"\n"); f.flush(); f.readline()' \
  $R/qmp$I.sock $1; }
echo "$(date +%s.%N) $op $*" >> $R/chassis$I.log
case $op in
get) for p in "$@"; do case $p in
       power) running && echo power:1 || echo power:0 ;;
       boot) echo "boot:$(cat $BOOTF 2>/dev/null || echo default)" ;;
       *) echo "Invalid parameter: $p"; exit 1 ;;
     esac; done ;;
set) while [ $# -ge 2 ]; do p=$1; v=$2; shift 2; case $p in
       power) if [ "$v" = 1 ]; then
                running || { BOOT=$(cat $BOOTF 2>/dev/null || echo default) \
                  setsid $W/runvm.sh $I </dev/null >>$R/qemu$I.out 2>&1 & }
              elif running; then P=$(cat $PIDF); kill $P
                for i in 1 2 3 4 5 6 7 8 9 10; do kill -0 $P 2>/dev/null || break; sleep 0.5; done
              fi ;;
       reset) running && qmp system_reset ;;
       shutdown) running && qmp system_powerdown ;;
       boot) echo "$v" > $BOOTF ;;
       identify) shift ;;
       *) echo "Invalid parameter: $p"; exit 1 ;;
     esac; done ;;
*) echo "Unknown operation: $op"; exit 1 ;;
esac
