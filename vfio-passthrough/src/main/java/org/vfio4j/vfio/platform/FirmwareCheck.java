package org.vfio4j.vfio.platform;

import java.util.List;

/**
 * Compares VFIO's view of a platform device with its firmware's: as many regions as memory/I/O resources, each of
 * the same size and kind; as many IRQs as interrupts, level-triggered exactly where VFIO reports AUTOMASKED (an
 * interrupt whose trigger the firmware leaves open is not compared).
 */
final class FirmwareCheck {
    private FirmwareCheck() {
    }

    /** @throws FirmwareMismatchException naming the node and the first index that differs */
    static void check(String device, List<PlatformRegion> regions, List<PlatformIrq> irqs, FirmwareDevice fw) {
        String where = device + " (" + fw.source() + ")";
        if (fw.regions().size() != regions.size()) {
            throw new FirmwareMismatchException(String.format("%s: the firmware lists %d memory/I/O resources, "
                    + "vfio-platform reports %d regions", where, fw.regions().size(), regions.size()));
        }
        for (int i = 0; i < regions.size(); i++) {
            FirmwareRegion f = fw.regions().get(i);
            PlatformRegion r = regions.get(i);
            if (f.io() != r.ioPort()) {
                throw new FirmwareMismatchException(String.format("%s: region %d is %s in the firmware but %s in "
                        + "VFIO", where, i, f.io() ? "I/O ports" : "memory", r.ioPort() ? "I/O ports" : "memory"));
            }
            if (f.size() != r.size()) {
                throw new FirmwareMismatchException(String.format("%s: region %d is 0x%x bytes at 0x%x in the "
                        + "firmware but 0x%x bytes in VFIO", where, i, f.size(), f.address(), r.size()));
            }
        }
        if (fw.irqs().size() != irqs.size()) {
            throw new FirmwareMismatchException(String.format("%s: the firmware lists %d interrupts, vfio-platform "
                    + "reports %d IRQs", where, fw.irqs().size(), irqs.size()));
        }
        for (int i = 0; i < irqs.size(); i++) {
            FirmwareIrq f = fw.irqs().get(i);
            PlatformIrq q = irqs.get(i);
            if (f.trigger() != Trigger.UNKNOWN && f.trigger() != q.trigger()) {
                throw new FirmwareMismatchException(String.format("%s: IRQ %d is %s-triggered in the firmware (%s) "
                        + "but VFIO reports it %s", where, i, f.trigger().name().toLowerCase(), f.specifier(),
                        q.info().automasked() ? "AUTOMASKED (level)" : "not AUTOMASKED (edge)"));
            }
        }
    }
}
