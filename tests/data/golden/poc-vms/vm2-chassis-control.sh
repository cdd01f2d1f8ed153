#!/bin/bash
# ipmi_sim's chassis-control hook of one PoC VM (oci-poc vms; docs/poc.md): get power|boot..., set power 0|1,
# set boot pxe|default|..., set reset 1, set shutdown 1. ipmi_sim waits for its answer: qemu is started detached.
folder=/var/lib/oci-poc/vms/vm2
alive() {  # a pid that exists and is no zombie (PID 1 may reap orphans late, and kill -0 says yes to a zombie)
    local state
    [ -s "$folder/qemu.pid" ] || return 1
    state=$(sed 's/^.*) //' "/proc/$(cat "$folder/qemu.pid")/stat" 2>/dev/null | cut -c1)
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}
power_on() {
    alive && return 0
    (
        # ipmi_sim reads this hook's output to its end: qemu must not hold it. ipmi_sim also leaks its sockets to
        # the hook (no close-on-exec); qemu would keep the BMC's ports bound after ipmi_sim exits.
        exec </dev/null >/dev/null 2>>/var/lib/oci-poc/vms/vm2/qemu.err
        for fd in $(ls "/proc/$BASHPID/fd"); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
        if [ "$(cat "$folder/boot" 2>/dev/null)" = pxe ]; then
            exec setsid qemu-system-x86_64 -nodefaults -accel tcg,thread=multi -m 2048 -smp 2 -smbios 'type=1,manufacturer=QEMU,product=OCI PoC 2U,serial=C2' -display none -monitor none -serial file:/var/lib/oci-poc/vms/vm2/console.log -netdev tap,id=n0,ifname=vm2n0,script=no,downscript=no -device e1000,netdev=n0,mac=52:54:00:0c:02:00,bootindex=1 -netdev tap,id=n1,ifname=vm2n1,script=no,downscript=no -device e1000,netdev=n1,mac=52:54:00:0c:02:01,romfile= -drive file=/var/lib/oci-poc/vms/vm2/disk0.raw,format=raw,if=none,id=d0,cache=unsafe -device virtio-blk-pci,drive=d0,bootindex=2 -drive file=/var/lib/oci-poc/vms/vm2/disk1.raw,format=raw,if=none,id=d1,cache=unsafe -device virtio-blk-pci,drive=d1,bootindex=3 -chardev socket,id=bmc,host=127.0.0.1,port=9102,reconnect=2 -device ipmi-bmc-extern,id=bmc0,chardev=bmc -device isa-ipmi-kcs,bmc=bmc0
        else
            exec setsid qemu-system-x86_64 -nodefaults -accel tcg,thread=multi -m 2048 -smp 2 -smbios 'type=1,manufacturer=QEMU,product=OCI PoC 2U,serial=C2' -display none -monitor none -serial file:/var/lib/oci-poc/vms/vm2/console.log -netdev tap,id=n0,ifname=vm2n0,script=no,downscript=no -device e1000,netdev=n0,mac=52:54:00:0c:02:00,bootindex=3 -netdev tap,id=n1,ifname=vm2n1,script=no,downscript=no -device e1000,netdev=n1,mac=52:54:00:0c:02:01,romfile= -drive file=/var/lib/oci-poc/vms/vm2/disk0.raw,format=raw,if=none,id=d0,cache=unsafe -device virtio-blk-pci,drive=d0,bootindex=1 -drive file=/var/lib/oci-poc/vms/vm2/disk1.raw,format=raw,if=none,id=d1,cache=unsafe -device virtio-blk-pci,drive=d1,bootindex=2 -chardev socket,id=bmc,host=127.0.0.1,port=9102,reconnect=2 -device ipmi-bmc-extern,id=bmc0,chardev=bmc -device isa-ipmi-kcs,bmc=bmc0
        fi
    ) &
    echo $! >"$folder/qemu.pid"
}
power_off() {
    local pid tries=0
    if alive; then
        pid=$(cat "$folder/qemu.pid")
        kill -TERM "$pid" 2>/dev/null
        while alive && [ $tries -lt 50 ]; do sleep 0.1; tries=$((tries + 1)); done
        alive && kill -KILL "$pid" 2>/dev/null
    fi
    rm -f "$folder/qemu.pid"
}
op=$1; shift
case $op in
get)
    for parameter in "$@"; do
        case $parameter in
        power) if alive; then echo power:1; else echo power:0; fi ;;
        boot) echo "boot:$(cat "$folder/boot" 2>/dev/null || echo default)" ;;
        *) echo "Invalid parameter: $parameter"; exit 1 ;;
        esac
    done ;;
set)
    while [ $# -ge 2 ]; do
        parameter=$1; value=$2; shift 2
        echo "$(date -u +%FT%TZ) set $parameter $value" >>"$folder/bmc.log"
        case $parameter in
        power) if [ "$value" = 1 ]; then power_on; else power_off; fi ;;
        boot) echo "$value" >"$folder/boot" ;;  # bootdev disk arrives as "default"
        reset) power_off; power_on ;;
        shutdown) power_off ;;  # chassis power soft: no ACPI request reaches the guest from here
        identify) shift ;;  # identify <interval> <force>: nothing to blink
        *) echo "Invalid parameter: $parameter"; exit 1 ;;
        esac
    done ;;
*) exit 1 ;;
esac
exit 0
