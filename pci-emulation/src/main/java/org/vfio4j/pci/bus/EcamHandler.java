package org.vfio4j.pci.bus;

import org.vfio4j.core.bus.TrapHandler;

/**
 * The PCI Express enhanced configuration access mechanism (ECAM, "MMCONFIG"): 4 KiB of configuration space per
 * function, mapped at {@code bus << 20 | device << 15 | function << 12 | register}, as a {@link TrapHandler} over
 * {@code busCount} MiB.
 *
 * <p>Byte, word and dword accesses that stay inside one dword reach the function (ECAM cannot split an access into
 * two configuration requests); wider or crossing accesses read all-ones and are dropped, as are accesses past a
 * conventional function's 256 bytes.
 */
public final class EcamHandler implements TrapHandler {
    private final PciHostBridge host;
    private final int busCount;

    /** A window for buses 0..{@code busCount - 1} of {@code host}. */
    public EcamHandler(PciHostBridge host, int busCount) {
        if (busCount < 1 || busCount > 256) {
            throw new IllegalArgumentException("ECAM covers 1..256 buses, not " + busCount);
        }
        this.host = host;
        this.busCount = busCount;
    }

    /** Bytes of MMIO the window spans: 1 MiB per bus. */
    public long length() {
        return (long) busCount << 20;
    }

    @Override
    public long read(long offset, int size) {
        if (offset < 0 || offset >= length() || size > 4) {
            return TrapHandler.allOnes(size);
        }
        return host.read(bus(offset), device(offset), function(offset), register(offset), size);
    }

    @Override
    public void write(long offset, int size, long value) {
        if (offset < 0 || offset >= length() || size > 4) {
            return;
        }
        host.write(bus(offset), device(offset), function(offset), register(offset), size, value);
    }

    private static int bus(long off) {
        return (int) (off >>> 20) & 0xFF;
    }

    private static int device(long off) {
        return (int) (off >>> 15) & 0x1F;
    }

    private static int function(long off) {
        return (int) (off >>> 12) & 0x7;
    }

    private static int register(long off) {
        return (int) (off & 0xFFF);
    }
}
