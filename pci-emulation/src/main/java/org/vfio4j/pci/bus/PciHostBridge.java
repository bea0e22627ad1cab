package org.vfio4j.pci.bus;

import org.vfio4j.core.bus.TrapHandler;
import org.vfio4j.pci.config.ConfigAccess;
import org.vfio4j.pci.config.ConfigSpace;
import org.vfio4j.pci.config.ConfigSpaceSize;
import org.vfio4j.pci.config.PciHeaders;
import org.vfio4j.pci.config.PciIdentity;

/**
 * The root of a PCI hierarchy: bus 0, an optional host bridge function at 00:00.0, and routing of configuration
 * accesses by bus number through {@link PciBridge}s. Guests reach it through {@link #mechanism1()} (ports
 * 0xCF8..0xCFF) and {@link #ecam(int)} (an MMCONFIG window).
 */
public final class PciHostBridge {
    /** Class code of a host bridge (06/00/00). */
    public static final int CLASS_HOST_BRIDGE = 0x060000;
    /** The identity QEMU's generic PCIe host bridge uses (Red Hat, 1b36:0008). */
    public static final PciIdentity DEFAULT_IDENTITY = PciIdentity.of(0x1b36, 0x0008, CLASS_HOST_BRIDGE, 0);
    /** Most bridges a configuration access is forwarded through (bus numbers are 8 bits). */
    private static final int MAX_DEPTH = 256;

    private final PciBus root = new PciBus(0);
    private final ConfigSpace hostFunction;

    /** A hierarchy with a host bridge function of identity {@code id} at 00:00.0, or none when {@code id} is null. */
    public PciHostBridge(PciIdentity id) {
        if (id != null) {
            hostFunction = PciHeaders.type0("host-bridge", ConfigSpaceSize.EXTENDED, id, 0);
            root.attach(0, 0, hostFunction);
        } else {
            hostFunction = null;
        }
    }

    /** A hierarchy with the {@link #DEFAULT_IDENTITY} host bridge function at 00:00.0. */
    public PciHostBridge() {
        this(DEFAULT_IDENTITY);
    }

    /** Bus 0. */
    public PciBus rootBus() {
        return root;
    }

    /** The host bridge function's config space, or {@code null} when constructed without one. */
    public ConfigSpace hostFunction() {
        return hostFunction;
    }

    /** The bus numbered {@code bus} as the bridges are programmed now, or {@code null} when none is. */
    public PciBus bus(int bus) {
        if (bus == 0) {
            return root;
        }
        PciBus current = root;
        for (int depth = 0; depth < MAX_DEPTH; depth++) {
            PciBridge next = null;
            for (PciAddress a : current.addresses()) {
                ConfigAccess f = current.function(a.device(), a.function());
                if (f instanceof PciBridge b) {
                    int sec = b.secondaryBusNumber();
                    int sub = b.subordinateBusNumber();
                    if (sec == bus) {
                        return b.secondary();
                    }
                    if (sec != 0 && sec < bus && bus <= sub) {
                        next = b;
                        break;
                    }
                }
            }
            if (next == null) {
                return null;
            }
            current = next.secondary();
        }
        return null;
    }

    /** A configuration read of {@code bus:device.fn}; all-ones when nothing answers. */
    public long read(int bus, int device, int fn, int offset, int size) {
        PciBus b = bus(bus);
        return b == null ? ConfigAccess.allOnes(size) : b.read(device, fn, offset, size);
    }

    /** A configuration write to {@code bus:device.fn}; dropped when nothing answers. */
    public void write(int bus, int device, int fn, int offset, int size, long value) {
        PciBus b = bus(bus);
        if (b != null) {
            b.write(device, fn, offset, size, value);
        }
    }

    /** A new handler for configuration mechanism #1, to register at port 0xCF8 for 8 ports. */
    public TrapHandler mechanism1() {
        return new ConfigMechanism1(this);
    }

    /** A new ECAM handler for buses 0..{@code busCount - 1}, to register over {@code busCount} MiB of MMIO. */
    public TrapHandler ecam(int busCount) {
        return new EcamHandler(this, busCount);
    }
}
