# Sourced by the L2 guest's /init (as /l2-drivers.sh): the device-driver checks of the Linux reference VMM tests.
# Each check loads the testbed kernel's own driver, lets it bind to the passed-through function, makes it do real
# work and prints key=value lines. $checks (from vfio4j.checks=) says which run; kv and fail come from /init.

# Loads the modules in /modules.order up to and including $1.ko (each at most once; a helper that does not apply to
# this CPU, such as crct10dif-pclmul without PCLMUL, fails harmlessly and the generic one serves).
#
# e1000e gets InterruptThrottleRate=0: with throttling on, the testbed's emulated e1000e (QEMU 7.2) can arm its
# legacy-interrupt throttling timer while MSI-X is off and then abort the whole testbed QEMU on the assertion
# "!msix_enabled" in e1000e_intrmgr_on_throttling_timer when MSI-X is on by the time it fires (seen once in a
# benchmark run; newer QEMU dropped that assertion). Both VMMs under test get the same setting.
load_up_to() {
    for m in $(cat /modules.order); do
        name="${m%.ko}"
        params=""
        [ "$name" = e1000e ] && params="InterruptThrottleRate=0"
        # shellcheck disable=SC2086
        grep -q "^$(echo "$name" | tr - _) " /proc/modules || insmod "/lib/modules/$m" $params 2>/dev/null
        [ "$m" = "$1.ko" ] && break
    done
    grep -q "^$(echo "$1" | tr - _) " /proc/modules
}

# The first PCI function with vendor:device $1 (e.g. 0x1b36:0x0010), or nothing.
find_pci() {
    for dev in /sys/bus/pci/devices/*; do
        [ "$(cat "$dev/vendor"):$(cat "$dev/device")" = "$1" ] && { basename "$dev"; return 0; }
    done
    return 1
}

# Waits up to $2 seconds for the file $1 to exist.
wait_for() {
    i=0
    while [ ! -e "$1" ] && [ "$i" -lt $(($2 * 10)) ]; do sleep 0.1; i=$((i + 1)); done
    [ -e "$1" ]
}

# Interrupt vectors of $1 in /proc/interrupts: "name:count" for each, comma-separated (counts summed over CPUs).
irq_counts() {
    awk -v pat="$1" '$0 ~ pat { n = 0; for (i = 2; i <= NF; i++) { if ($i ~ /^[0-9]+$/) n += $i; else break }
        printf "%s%s:%d", sep, $NF, n; sep = "," }' /proc/interrupts
}

driver_of() {
    basename "$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null)" 2>/dev/null
}

# --- nvme: the namespace, the known pattern, 16 MiB of O_DIRECT writes read back ----------------------------------
# The testbed's nvme backing file starts with NVME_PATTERN_MIB MiB of a known pattern (testbed/run makes it: the
# bytes of "vfio4j nvme pattern " repeated); the write test uses the 16 MiB from offset 16 MiB.
check_nvme() {
    bdf="$(find_pci 0x1b36:0x0010)" || { fail "nvme: no 1b36:0010 function"; return; }
    kv nvme.bdf "$bdf"
    load_up_to nvme || { fail "nvme: module did not load"; return; }
    wait_for /dev/nvme0n1 30 || { fail "nvme: no /dev/nvme0n1 after 30 s"; kv nvme.driver "$(driver_of "$bdf")"; return; }
    kv nvme.driver "$(driver_of "$bdf")"
    kv nvme.queues "$(dmesg | grep -oE 'nvme0: [0-9]+/[0-9]+/[0-9]+ default/read/poll queues' | tail -1)"
    kv nvme.size_bytes "$(($(cat /sys/block/nvme0n1/size) * 512))"
    kv nvme.pattern_md5 "$(dd if=/dev/nvme0n1 bs=1M count=1 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)"
    case ",$checks," in
        *,nvme-verify,*)
            # A second boot reads back what the first one wrote.
            kv nvme.readback_md5 "$(dd if=/dev/nvme0n1 bs=1M skip=16 count=16 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)"
            ;;
        *)
            dd if=/dev/urandom of=/tmp/random bs=1M count=16 2>/dev/null
            kv nvme.write_md5 "$(md5sum </tmp/random | cut -d' ' -f1)"
            t0="$(cut -d' ' -f1 /proc/uptime)"
            dd if=/tmp/random of=/dev/nvme0n1 bs=1M seek=16 count=16 oflag=direct conv=fsync 2>/dev/null \
                || fail "nvme: the O_DIRECT write failed"
            t1="$(cut -d' ' -f1 /proc/uptime)"
            kv nvme.read_md5 "$(dd if=/dev/nvme0n1 bs=1M skip=16 count=16 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)"
            t2="$(cut -d' ' -f1 /proc/uptime)"
            kv nvme.write_seconds "$(echo "$t0 $t1" | awk '{print $2 - $1}')"
            kv nvme.read_seconds "$(echo "$t1 $t2" | awk '{print $2 - $1}')"
            rm -f /tmp/random
            ;;
    esac
    # Read throughput at 4 KiB and 128 KiB (O_DIRECT; 16 and 64 MiB, enough for /proc/uptime's 10 ms resolution;
    # busybox's dd prints no rate), for the benchmark rows.
    for spec in 4:16 128:64; do
        bs="${spec%%:*}"
        mib="${spec##*:}"
        t0="$(cut -d' ' -f1 /proc/uptime)"
        dd if=/dev/nvme0n1 of=/dev/null bs=${bs}k count=$((mib * 1024 / bs)) iflag=direct 2>/dev/null
        t1="$(cut -d' ' -f1 /proc/uptime)"
        kv "nvme.read_${bs}k_mib" "$mib"
        kv "nvme.read_${bs}k_seconds" "$(echo "$t0 $t1" | awk '{print $2 - $1}')"
    done
    kv nvme.irqs "$(irq_counts nvme)"
}

# --- e1000e: link up, 1000 IPv6 link-local pings to the testbed guest over QEMU's hub ------------------------------
# The link partner is the testbed guest's own NIC on the same hub, MAC 52:54:00:00:fe:01, so its link-local address
# is fe80::5054:ff:fe00:fe01 (the e1000e keeps QEMU's default MAC, 52:54:00:12:34:56).
E1000E_PARTNER=fe80::5054:ff:fe00:fe01
check_e1000e() {
    bdf="$(find_pci 0x8086:0x10d3)" || { fail "e1000e: no 8086:10d3 function"; return; }
    kv e1000e.bdf "$bdf"
    load_up_to e1000e || { fail "e1000e: module did not load"; return; }
    wait_for "/sys/bus/pci/devices/$bdf/net" 30 || { fail "e1000e: no network interface"; return; }
    kv e1000e.driver "$(driver_of "$bdf")"
    ifname="$(ls "/sys/bus/pci/devices/$bdf/net" | head -1)"
    kv e1000e.ifname "$ifname"
    ip link set lo up
    ip link set "$ifname" up
    i=0
    while [ "$(cat "/sys/class/net/$ifname/carrier" 2>/dev/null)" != 1 ] && [ "$i" -lt 200 ]; do
        sleep 0.1; i=$((i + 1))
    done
    kv e1000e.carrier "$(cat "/sys/class/net/$ifname/carrier" 2>/dev/null)"
    # Duplicate address detection must finish before the link-local address can send.
    i=0
    while ip -6 addr show dev "$ifname" | grep -q tentative && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    kv e1000e.address "$(ip -6 addr show dev "$ifname" | awk '/inet6 fe80/ {print $2; exit}')"
    ping -6 -c 1000 -A -W 5 -w 120 -q -I "$ifname" "$E1000E_PARTNER%$ifname" >/tmp/ping 2>&1
    kv e1000e.ping "$(grep -oE '[0-9]+ packets transmitted, [0-9]+ packets received' /tmp/ping)"
    kv e1000e.ping_loss "$(grep -oE '[0-9.]+% packet loss' /tmp/ping)"
    kv e1000e.ping_rtt "$(grep -oE 'min/avg/max = [0-9./]+ ms' /tmp/ping)"
    kv e1000e.rx_packets "$(cat "/sys/class/net/$ifname/statistics/rx_packets")"
    kv e1000e.tx_packets "$(cat "/sys/class/net/$ifname/statistics/tx_packets")"
    kv e1000e.irqs "$(irq_counts "$ifname")"
}

case ",$checks," in *,nvme,*|*,nvme-verify,*) check_nvme ;; esac
case ",$checks," in *,e1000e,*) check_e1000e ;; esac

# --- bochs-display: the DRM driver binds, fbcon takes the screen, the guest draws a known picture -----------------
# The screen (1280x800 at 32 bpp, bochs-drm's default, 160x50 text cells of 8x16) gets a line of text in the top row
# and, from text row 3 (pixel row 32) down, eight bands of 6 text rows (96 pixel rows) each in the console's eight background colours (black, red,
# green, brown, blue, magenta, cyan, light grey: VGA palette values 0x00/0xaa/0x55), drawn by fbcon through the
# passed-through BAR. (Rows written to /dev/fb0 with write() reach the shadow buffer of this kernel's DRM fbdev
# emulation but not the screen; fbcon's drawing does.) The testbed then takes a screenshot of the device's screen.
BOCHS_TEXT="vfio4j: bochs-display passed through, drawn by the L2 guest"
check_bochs() {
    bdf=""
    for dev in /sys/bus/pci/devices/*; do
        if [ "$(cat "$dev/vendor"):$(cat "$dev/device")" = 0x1234:0x1111 ] && [ "$(cat "$dev/class")" = 0x038000 ]; then
            bdf="$(basename "$dev")"
        fi
    done
    [ -n "$bdf" ] || { fail "bochs: no bochs-display (1234:1111, class 0x038000)"; return; }
    kv bochs.bdf "$bdf"
    load_up_to bochs || { fail "bochs: module did not load"; return; }
    wait_for /dev/fb0 30 || { fail "bochs: no /dev/fb0"; kv bochs.driver "$(driver_of "$bdf")"; return; }
    kv bochs.driver "$(driver_of "$bdf")"
    kv bochs.fb_name "$(cat /sys/class/graphics/fb0/name)"
    kv bochs.mode "$(cat /sys/class/graphics/fb0/virtual_size) $(cat /sys/class/graphics/fb0/bits_per_pixel)bpp"
    echo 0 >/sys/class/graphics/fbcon/cursor_blink 2>/dev/null
    spaces="$(printf '%160s' '')"
    {
        printf '\033[2J\033[?25l\033[1;1H%s' "$BOCHS_TEXT"
        band=0
        while [ "$band" -lt 8 ]; do
            r=0
            while [ "$r" -lt 6 ]; do
                printf '\033[%d;1H\033[4%dm%s' $((3 + band * 6 + r)) "$band" "$spaces"
                r=$((r + 1))
            done
            band=$((band + 1))
        done
        printf '\033[0m'
    } >/dev/tty1
    sleep 1
    kv bochs.drawn 1
}

case ",$checks," in *,bochs,*) check_bochs ;; esac
