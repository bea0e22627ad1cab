package org.vfio4j.vfio.igd;

import static org.vfio4j.vfio.uapi.VfioConstants.VFIO_PCI_BAR0_REGION_INDEX;
import static org.vfio4j.vfio.uapi.VfioConstants.VFIO_PCI_CONFIG_REGION_INDEX;

import java.util.OptionalInt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfio4j.core.bus.TrapHandler;
import org.vfio4j.core.memory.E820Type;
import org.vfio4j.core.memory.MemoryReservations;
import org.vfio4j.pci.config.ConfigAccess;
import org.vfio4j.pci.config.ConfigSpace;
import org.vfio4j.vfio.errors.VfioException;
import org.vfio4j.vfio.pci.QuirkContext;
import org.vfio4j.vfio.region.RegionInfo;
import org.vfio4j.vfio.region.VfioRegion;

/**
 * Emulates the IGD's stolen-memory registers for the guest, per graphics generation.
 *
 * <ul>
 *   <li>GMCH (config 0x50, 16 bits): the host value, with GMS replaced when the caller asks for another stolen size;
 *       emulated and read-only (firmware locks it on real machines).</li>
 *   <li>The data stolen memory itself: a range of guest RAM of the size GMS asks for, 1 MiB aligned below 4 GiB,
 *       reported to the guest as reserved (as SeaBIOS does for QEMU); nothing when GMS is 0.</li>
 *   <li>BDSM (config 0x5C, 32 bits, before generation 11; config 0xC0, 64 bits, from 11): the guest base of that
 *       range with the lock bit set, emulated and read-only. The host's BDSM (a host physical address) never shows
 *       and a guest write never reaches the device.</li>
 *   <li>BAR0 mirrors both registers at 0x108040 (GMCH) and 0x1080C0 (BDSM), and guest drivers (Windows in
 *       particular) read them there: those bytes are trapped and answered from the emulated registers; writes are
 *       dropped.</li>
 * </ul>
 */
final class StolenMemory {
    private static final Logger LOG = LoggerFactory.getLogger(StolenMemory.class);
    private static final long LIMIT_4G = 1L << 32;

    private StolenMemory() {
    }

    static AutoCloseable install(QuirkContext context, int gen, OptionalInt gmsOverride) {
        ConfigSpace cs = context.config();
        VfioRegion physical = context.device().region(VFIO_PCI_CONFIG_REGION_INDEX);
        int hostGmch = (int) physical.read(IgdGeneration.GMCH, 2);
        int gmch = hostGmch;
        if (gmsOverride.isPresent()) {
            try {
                gmch = IgdGeneration.withGms(gen, hostGmch, gmsOverride.getAsInt());
            } catch (IllegalArgumentException e) {
                throw new VfioException(context.name() + ": " + e.getMessage(), e);
            }
        }
        long stolen = IgdGeneration.stolenBytes(gen, gmch);
        int bdsmAt = IgdGeneration.bdsmOffset(gen);
        int bdsmSize = IgdGeneration.bdsmSize(gen);

        MemoryReservations.Reservation reservation = null;
        long bdsm = 0;
        if (stolen > 0) {
            MemoryReservations res = context.vmm().memoryReservations().orElseThrow(() -> new VfioException(
                    context.name() + ": the VMM cannot reserve guest RAM (Vmm.memoryReservations() is empty), so "
                            + "there is nowhere to put the " + (stolen >> 20) + " MiB of stolen memory GMCH asks for"));
            reservation = res.reserve(context.name() + " IGD stolen memory", stolen, IgdGeneration.BDSM_BASE_ALIGN,
                    LIMIT_4G, E820Type.RESERVED);
            bdsm = reservation.range().guestAddress() | 1; // bit 0: locked, as firmware leaves it
        }
        try {
            cs.setWord(IgdGeneration.GMCH, gmch);
            cs.setEmulated(IgdGeneration.GMCH, 2, 0xFFFF);
            cs.setReadOnly(IgdGeneration.GMCH, 2);
            cs.setDword(bdsmAt, (int) bdsm);
            if (bdsmSize == 8) {
                cs.setDword(bdsmAt + 4, (int) (bdsm >>> 32));
            }
            cs.setEmulatedRange(bdsmAt, bdsmSize, true);
            cs.setReadOnly(bdsmAt, bdsmSize);
            mirrorInBar0(context, gen, cs, bdsmAt, bdsmSize);
        } catch (RuntimeException e) {
            if (reservation != null) {
                reservation.close();
            }
            throw e;
        }
        LOG.info("{}: generation {}, GMCH 0x{} (host 0x{}), {} MiB stolen, BDSM 0x{}", context.name(), gen,
                Integer.toHexString(gmch), Integer.toHexString(hostGmch), stolen >> 20, Long.toHexString(bdsm));
        return reservation == null ? () -> { } : reservation;
    }

    private static void mirrorInBar0(QuirkContext context, int gen, ConfigSpace cs, int bdsmAt, int bdsmSize) {
        if (gen < 6) {
            return;
        }
        RegionInfo bar0 = null;
        for (RegionInfo r : context.regions()) {
            if (r.index() == VFIO_PCI_BAR0_REGION_INDEX) {
                bar0 = r;
            }
        }
        if (bar0 == null || bar0.size() < IgdGeneration.BAR0_BDSM_MIRROR + bdsmSize) {
            LOG.warn("{}: BAR0 is {}; the GMCH/BDSM mirrors at 0x108040/0x1080C0 are not emulated", context.name(),
                    bar0 == null ? "missing" : "0x" + Long.toHexString(bar0.size()) + " bytes");
            return;
        }
        context.trapBarRange(VFIO_PCI_BAR0_REGION_INDEX, IgdGeneration.BAR0_GMCH_MIRROR, 2,
                new ConfigMirror(cs, IgdGeneration.GMCH, 2));
        context.trapBarRange(VFIO_PCI_BAR0_REGION_INDEX, IgdGeneration.BAR0_BDSM_MIRROR, bdsmSize,
                new ConfigMirror(cs, bdsmAt, bdsmSize));
    }

    /** Reads of a BAR range answered from emulated config registers; writes dropped. */
    record ConfigMirror(ConfigSpace cs, int configOffset, int length) implements TrapHandler {
        @Override
        public long read(long offset, int size) {
            if (offset < 0 || size <= 0 || size > 8 || offset + size > length) {
                return ConfigAccess.allOnes(size);
            }
            long v = 0;
            for (int i = size - 1; i >= 0; i--) {
                v = v << 8 | cs.getByte(configOffset + (int) offset + i);
            }
            return v;
        }

        @Override
        public void write(long offset, int size, long value) {
            // read-only mirror: the registers are locked
        }
    }
}
