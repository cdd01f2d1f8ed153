#!/bin/sh
# ipmi_sim's chassis-control hook of one PoC VM (oci-poc vms; docs/poc.md): get power|boot..., set power 0|1,
# set boot pxe|default|..., set reset 1. ipmi_sim waits for it: it answers at once, and qemu daemonizes.
folder=/var/lib/oci-poc/vms/vm3
alive() { [ -s "$folder/qemu.pid" ] && kill -0 "$(cat "$folder/qemu.pid")" 2>/dev/null; }
power_on() {
    alive && return 0
    rm -f "$folder/qemu.pid"
    if [ "$(cat "$folder/boot" 2>/dev/null)" = pxe ]; then
        qemu-system-x86_64 -nodefaults -accel tcg,thread=multi -m 2048 -smp 2 -smbios 'type=1,manufacturer=QEMU,product=OCI PoC 1U UEFI,serial=C3' -display none -monitor none -serial file:/var/lib/oci-poc/vms/vm3/console.log -netdev tap,id=n0,ifname=vm3n0,script=no,downscript=no -device e1000,netdev=n0,mac=52:54:00:0c:03:00,bootindex=1 -netdev tap,id=n1,ifname=vm3n1,script=no,downscript=no -device e1000,netdev=n1,mac=52:54:00:0c:03:01,romfile= -drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd -drive if=pflash,format=raw,unit=1,file=/var/lib/oci-poc/vms/vm3/OVMF_VARS.fd -drive file=/var/lib/oci-poc/vms/vm3/disk0.raw,format=raw,if=none,id=d0,cache=unsafe -device virtio-blk-pci,drive=d0,bootindex=2 -chardev socket,id=bmc,host=127.0.0.1,port=9103,reconnect=2 -device ipmi-bmc-extern,id=bmc0,chardev=bmc -device isa-ipmi-kcs,bmc=bmc0 -daemonize -pidfile /var/lib/oci-poc/vms/vm3/qemu.pid </dev/null >/dev/null 2>>/var/lib/oci-poc/vms/vm3/qemu.err
    else
        qemu-system-x86_64 -nodefaults -accel tcg,thread=multi -m 2048 -smp 2 -smbios 'type=1,manufacturer=QEMU,product=OCI PoC 1U UEFI,serial=C3' -display none -monitor none -serial file:/var/lib/oci-poc/vms/vm3/console.log -netdev tap,id=n0,ifname=vm3n0,script=no,downscript=no -device e1000,netdev=n0,mac=52:54:00:0c:03:00,bootindex=2 -netdev tap,id=n1,ifname=vm3n1,script=no,downscript=no -device e1000,netdev=n1,mac=52:54:00:0c:03:01,romfile= -drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd -drive if=pflash,format=raw,unit=1,file=/var/lib/oci-poc/vms/vm3/OVMF_VARS.fd -drive file=/var/lib/oci-poc/vms/vm3/disk0.raw,format=raw,if=none,id=d0,cache=unsafe -device virtio-blk-pci,drive=d0,bootindex=1 -chardev socket,id=bmc,host=127.0.0.1,port=9103,reconnect=2 -device ipmi-bmc-extern,id=bmc0,chardev=bmc -device isa-ipmi-kcs,bmc=bmc0 -daemonize -pidfile /var/lib/oci-poc/vms/vm3/qemu.pid </dev/null >/dev/null 2>>/var/lib/oci-poc/vms/vm3/qemu.err
    fi
}
power_off() {
    alive && kill "$(cat "$folder/qemu.pid")"
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
        power) if [ "$value" = 1 ]; then power_on || exit 1; else power_off; fi ;;
        boot) echo "$value" >"$folder/boot" ;;
        reset) power_off; power_on || exit 1 ;;
        identify) ;;
        *) echo "Invalid parameter: $parameter"; exit 1 ;;
        esac
    done ;;
*) exit 1 ;;
esac
