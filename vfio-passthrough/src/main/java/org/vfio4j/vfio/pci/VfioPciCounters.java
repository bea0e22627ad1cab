package org.vfio4j.vfio.pci;

import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.vfio4j.vfio.reset.ResetMethod;

/**
 * A snapshot of what a {@link VfioPciDevice} did, for demos and benchmarks.
 *
 * @param bars every implemented BAR and the ROM, with mapped/trapped ranges and trapped access counts
 * @param mode the interrupt mode the guest enabled
 * @param kernelRoutedVectors vectors of the current mode delivered by irqfd without a userspace hop (the VMM can't
 *     count those interrupts; KVM consumes the eventfd)
 * @param userspaceInterrupts interrupts that went through userspace, by way (every {@link UserspaceDelivery}, zeros
 *     included)
 * @param errors ERR signals reported to the VMM
 * @param unplugRequests REQ signals
 * @param configReads guest config reads
 * @param configWrites guest config writes
 * @param dmaMappedBytes guest RAM mapped into the IOMMU now
 * @param lastReset the last reset performed, or {@link ResetMethod#NONE}
 * @param interruptSetupFailures times VFIO refused to set up the vectors the guest enabled (e.g. ENOSPC); the
 *     guest keeps the mode it chose and the vectors are tried again at its next unmask
 * @param suppressedLogLines guest-driven log lines left out by the per-cause rate limit
 */
public record VfioPciCounters(List<BarLayout> bars, InterruptMode mode, int kernelRoutedVectors,
        Map<UserspaceDelivery, Long> userspaceInterrupts, long errors, long unplugRequests, long configReads,
        long configWrites,
        long dmaMappedBytes, ResetMethod lastReset, long interruptSetupFailures, long suppressedLogLines) {

    /** Without the failure counters (both 0). */
    public VfioPciCounters(List<BarLayout> bars, InterruptMode mode, int kernelRoutedVectors,
            Map<UserspaceDelivery, Long> userspaceInterrupts, long errors, long unplugRequests, long configReads,
            long configWrites, long dmaMappedBytes, ResetMethod lastReset) {
        this(bars, mode, kernelRoutedVectors, userspaceInterrupts, errors, unplugRequests, configReads, configWrites,
                dmaMappedBytes, lastReset, 0, 0);
    }

    /** Copies the collections; a way missing from {@code userspaceInterrupts} counts zero. */
    public VfioPciCounters {
        bars = List.copyOf(bars);
        Map<UserspaceDelivery, Long> all = new EnumMap<>(UserspaceDelivery.class);
        for (UserspaceDelivery how : UserspaceDelivery.values()) {
            all.put(how, userspaceInterrupts.getOrDefault(how, 0L));
        }
        userspaceInterrupts = Collections.unmodifiableMap(all);
    }

    /** Interrupts that went through userspace {@code how}. */
    public long userspaceInterrupts(UserspaceDelivery how) {
        return userspaceInterrupts.get(how);
    }

    /** The layout of BAR {@code index} (6 for the ROM), or null when not implemented. */
    public BarLayout bar(int index) {
        return bars.stream().filter(b -> b.index() == index).findFirst().orElse(null);
    }
}
