package org.vfio4j.pci.bus;

import java.util.concurrent.atomic.AtomicInteger;
import org.vfio4j.core.bus.TrapHandler;
import org.vfio4j.pci.config.ConfigAccess;

/**
 * PCI configuration mechanism #1: the CONFIG_ADDRESS register at port 0xCF8 and the CONFIG_DATA window at
 * 0xCFC..0xCFF, as a {@link TrapHandler} for the 8 ports starting at 0xCF8 (offsets 0..7).
 *
 * <p>CONFIG_ADDRESS takes only dword accesses (a byte or word access at 0xCF8..0xCFB is not a configuration
 * cycle: reads all-ones, writes dropped); its reserved bits 30:24 and 1:0 read zero. CONFIG_DATA takes byte, word
 * and dword accesses: an access at 0xCFC + k reaches register {@code (address & 0xFC) + k}, so bytes at
 * 0xCFD..0xCFF and a word at 0xCFE reach the upper bytes of the selected dword. With the enable bit (31) clear,
 * data accesses read all-ones and are dropped.
 */
public final class ConfigMechanism1 implements TrapHandler {
    /** The I/O port of CONFIG_ADDRESS. */
    public static final int PORT = 0xCF8;
    /** Ports the handler covers: 0xCF8..0xCFF. */
    public static final int LENGTH = 8;
    private static final int ENABLE = 0x8000_0000;
    private static final int IMPLEMENTED = 0x80FF_FFFC;

    private final PciHostBridge host;
    private final AtomicInteger address = new AtomicInteger();

    /** A handler routing through {@code host}. */
    public ConfigMechanism1(PciHostBridge host) {
        this.host = host;
    }

    @Override
    public long read(long offset, int size) {
        if (offset == 0 && size == 4) {
            return address.get() & 0xFFFF_FFFFL;
        }
        if (offset < 4 || offset >= LENGTH) {
            return TrapHandler.allOnes(size);
        }
        int a = address.get();
        if ((a & ENABLE) == 0) {
            return TrapHandler.allOnes(size);
        }
        return host.read(bus(a), device(a), function(a), register(a, offset), size);
    }

    @Override
    public void write(long offset, int size, long value) {
        if (offset == 0 && size == 4) {
            address.set((int) value & IMPLEMENTED);
            return;
        }
        if (offset < 4 || offset >= LENGTH) {
            return;
        }
        int a = address.get();
        if ((a & ENABLE) != 0) {
            host.write(bus(a), device(a), function(a), register(a, offset), size, value & ConfigAccess.allOnes(size));
        }
    }

    private static int bus(int a) {
        return (a >>> 16) & 0xFF;
    }

    private static int device(int a) {
        return (a >>> 11) & 0x1F;
    }

    private static int function(int a) {
        return (a >>> 8) & 0x7;
    }

    private static int register(int a, long offset) {
        return (a & 0xFC) + (int) (offset - 4);
    }
}
