package org.vfio4j.vfio.vga;

import static org.vfio4j.vfio.uapi.VfioConstants.VFIO_PCI_VGA_REGION_INDEX;

import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfio4j.core.bus.TrapBus;
import org.vfio4j.core.bus.TrapHandler;
import org.vfio4j.core.bus.TrapOverlapException;
import org.vfio4j.pci.config.ConfigSpace;
import org.vfio4j.vfio.pci.DeviceQuirk;
import org.vfio4j.vfio.pci.QuirkContext;
import org.vfio4j.vfio.region.RegionInfo;
import org.vfio4j.vfio.region.VfioRegion;

/**
 * Gives the guest a VGA device's legacy ranges: memory 0xA0000-0xBFFFF and I/O ports 0x3B0-0x3BB and 0x3C0-0x3DF,
 * trapped and forwarded to the device through vfio-pci's VGA region (index 8, each range at its own address as the
 * offset). Off unless the VMM adds this quirk ({@code VfioPciOptions.builder(bdf).quirk(new LegacyVgaQuirk())}),
 * as QEMU's {@code x-vga=on}. It applies to display functions of class 0x0300 whose VGA region VFIO reports
 * (the kernel needs {@code CONFIG_VFIO_PCI_VGA}); on any other function it does nothing.
 *
 * <p>Decoding follows the function's command register, as a VGA device on the root bus decodes: the memory range
 * only while memory space is enabled, the ports only while I/O space is enabled; otherwise reads return all-ones and
 * writes are dropped. (Behind a bridge the bridge's VGA-enable bit would also gate it; this VMM-side quirk serves
 * functions on the root bus.) Only one device per VM can own the legacy ranges: a second one is refused at attach,
 * naming the owner. Every access is a pread/pwrite of exactly its size on the VGA region; a failed one reads
 * all-ones.
 */
public final class LegacyVgaQuirk implements DeviceQuirk {
    private static final Logger LOG = LoggerFactory.getLogger(LegacyVgaQuirk.class);

    /** The quirk; it applies to a display-class function (class code 0x0300). */
    public LegacyVgaQuirk() {
    }

    /** The legacy VGA memory window. */
    public static final long MEMORY_BASE = 0xA0000;
    /** Its size (128 KiB: graphics 0xA0000, monochrome text 0xB0000, colour text 0xB8000). */
    public static final long MEMORY_SIZE = 0x20000;
    /** The monochrome-adapter ports 0x3B0-0x3BB. */
    public static final int MONO_PORTS = 0x3B0;
    public static final int MONO_PORTS_LENGTH = 12;
    /** The VGA ports 0x3C0-0x3DF. */
    public static final int VGA_PORTS = 0x3C0;
    public static final int VGA_PORTS_LENGTH = 32;
    /** The size of vfio-pci's VGA region: everything up to the end of the memory window. */
    public static final long REGION_SIZE = 0xC0000;

    private static final int PCI_COMMAND = 0x04;
    private static final int COMMAND_IO = 1;
    private static final int COMMAND_MEMORY = 2;

    @Override
    public String name() {
        return "legacy VGA ranges";
    }

    @Override
    public boolean appliesTo(QuirkContext context) {
        int classCode = (int) (context.config().read(0x0A, 2) & 0xffff);
        if (classCode != 0x0300) {
            return false;
        }
        RegionInfo vga = context.regions().stream().filter(r -> r.index() == VFIO_PCI_VGA_REGION_INDEX).findFirst()
                .orElse(null);
        if (vga == null || vga.size() < REGION_SIZE) {
            LOG.info("{}: a VGA-class function without vfio-pci's VGA region (kernel without CONFIG_VFIO_PCI_VGA?);"
                    + " legacy ranges not given to the guest", context.name());
            return false;
        }
        return true;
    }

    @Override
    public AutoCloseable install(QuirkContext context) {
        VfioRegion region = context.device().region(VFIO_PCI_VGA_REGION_INDEX);
        ConfigSpace config = context.config();
        String owner = context.name() + " legacy VGA";
        List<TrapBus.Registration> held = new ArrayList<>();
        try {
            held.add(register(context.vmm().mmioBus(), MEMORY_BASE, MEMORY_SIZE,
                    new Forward(region, MEMORY_BASE, config, COMMAND_MEMORY), owner + " memory"));
            held.add(register(context.vmm().pioBus(), MONO_PORTS, MONO_PORTS_LENGTH,
                    new Forward(region, MONO_PORTS, config, COMMAND_IO), owner + " ports 0x3b0"));
            held.add(register(context.vmm().pioBus(), VGA_PORTS, VGA_PORTS_LENGTH,
                    new Forward(region, VGA_PORTS, config, COMMAND_IO), owner + " ports 0x3c0"));
        } catch (RuntimeException e) {
            held.forEach(TrapBus.Registration::close);
            throw e;
        }
        LOG.info("{}: legacy VGA ranges (0xa0000-0xbffff, 0x3b0-0x3bb, 0x3c0-0x3df) forwarded to the device",
                context.name());
        return () -> held.forEach(TrapBus.Registration::close);
    }

    private static TrapBus.Registration register(TrapBus bus, long base, long length, TrapHandler handler,
            String owner) {
        try {
            return bus.register(base, length, handler, owner);
        } catch (TrapOverlapException e) {
            throw new IllegalStateException(owner + ": the legacy VGA range at 0x" + Long.toHexString(base)
                    + " is already claimed (" + e.getMessage() + "); only one device per VM can own the legacy VGA "
                    + "ranges", e);
        }
    }

    /** One legacy range, forwarded at its identity offset in the VGA region while the command register decodes it. */
    private static final class Forward implements TrapHandler {
        private final VfioRegion region;
        private final long base;
        private final ConfigSpace config;
        private final int decodeBit;

        Forward(VfioRegion region, long base, ConfigSpace config, int decodeBit) {
            this.region = region;
            this.base = base;
            this.config = config;
            this.decodeBit = decodeBit;
        }

        private boolean decoding() {
            return (config.read(PCI_COMMAND, 2) & decodeBit) != 0;
        }

        @Override
        public long read(long offset, int size) {
            if (!decoding()) {
                return TrapHandler.allOnes(size);
            }
            try {
                return region.read(base + offset, size);
            } catch (RuntimeException e) {
                return TrapHandler.allOnes(size);
            }
        }

        @Override
        public void write(long offset, int size, long value) {
            if (!decoding()) {
                return;
            }
            try {
                region.write(base + offset, size, value);
            } catch (RuntimeException e) {
                // the hardware's answer to a failed write: it is lost
            }
        }
    }
}
