package org.vfio4j.vfio.igd;

import com.sun.jna.Pointer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfio4j.core.memory.E820Type;
import org.vfio4j.core.memory.MemoryReservations;
import org.vfio4j.core.memory.ReservedRange;
import org.vfio4j.pci.config.ConfigSpace;
import org.vfio4j.vfio.errors.VfioException;
import org.vfio4j.vfio.pci.QuirkContext;
import org.vfio4j.vfio.region.RegionType;
import org.vfio4j.vfio.region.VfioRegion;

/**
 * Gives the guest the IGD OpRegion the way firmware gives it to an OS: a copy in RAM that the memory map reports as
 * ACPI NVS, whose address is in the ASLS register (config 0xFC).
 *
 * <p>The region is read once and validated ({@link OpRegion#parse}); the copy (OpRegion plus extended VBT) is placed
 * through the VMM's {@link MemoryReservations} below 4 GiB (ASLS is 32 bits), page aligned. ASLS is then fully
 * emulated and read-only: the guest reads the copy's address, and a guest write neither reaches the hardware (whose
 * ASLS holds the host address) nor moves the copy. The guest driver writes its mailbox fields into the copy, which is
 * RAM; nothing of that goes back to the host OpRegion.
 */
final class OpRegionHandler implements DeviceRegionHandler {
    private static final Logger LOG = LoggerFactory.getLogger(OpRegionHandler.class);
    /** Largest region accepted: the 8 KiB OpRegion plus a generous extended VBT. */
    static final long MAX_REGION = 1L << 20;
    private static final long PAGE = 4096;
    private static final long LIMIT_4G = 1L << 32;

    /** A handler for the OpRegion region. */
    public OpRegionHandler() {
    }

    @Override
    public String name() {
        return "igd-opregion";
    }

    @Override
    public RegionType claims() {
        return RegionType.INTEL_IGD_OPREGION;
    }

    @Override
    public AutoCloseable install(QuirkContext context, VfioRegion region) {
        String what = context.name() + " OpRegion (region " + region.info().index() + ")";
        long size = region.size();
        if (size > MAX_REGION) {
            throw new VfioException(String.format("%s: 0x%x bytes is larger than any OpRegion (limit 0x%x)", what,
                    size, MAX_REGION));
        }
        byte[] bytes = new byte[(int) size];
        region.read(0, bytes, 0, bytes.length);
        OpRegion op;
        try {
            op = OpRegion.parse(bytes, what);
        } catch (IllegalArgumentException e) {
            throw new VfioException(e.getMessage(), e);
        }
        MemoryReservations reservations = context.vmm().memoryReservations().orElseThrow(() -> new VfioException(
                what + ": the VMM cannot reserve guest RAM (Vmm.memoryReservations() is empty), so there is nowhere "
                        + "to put the OpRegion copy the guest driver needs"));
        long length = (op.copySize() + PAGE - 1) & -PAGE;
        MemoryReservations.Reservation r = reservations.reserve(context.name() + " IGD OpRegion", length, PAGE,
                LIMIT_4G, E820Type.NVS);
        try {
            ReservedRange range = r.range();
            long host = context.vmm().guestMemory().hostAddress(range.guestAddress(), length);
            Pointer p = new Pointer(host);
            p.write(0, bytes, 0, op.copySize());
            p.setMemory(op.copySize(), length - op.copySize(), (byte) 0);
            ConfigSpace cs = context.config();
            cs.setDword(IgdGeneration.ASLS, (int) range.guestAddress());
            cs.setEmulated(IgdGeneration.ASLS, 4, 0xFFFF_FFFFL);
            cs.setReadOnly(IgdGeneration.ASLS, 4);
            LOG.info("{}: {} copied to guest 0x{} ({} bytes), ASLS set", context.name(), op,
                    Long.toHexString(range.guestAddress()), length);
        } catch (RuntimeException e) {
            r.close();
            throw e;
        }
        return r;
    }
}
