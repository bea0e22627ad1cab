package org.vfio4j.vfio.pci;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/** Interrupts that went through userspace, per {@link UserspaceDelivery}; counted from any thread. */
final class DeliveryCounts {
    private final LongAdder[] counts = new LongAdder[UserspaceDelivery.values().length];

    DeliveryCounts() {
        for (int i = 0; i < counts.length; i++) {
            counts[i] = new LongAdder();
        }
    }

    void count(UserspaceDelivery how) {
        counts[how.ordinal()].increment();
    }

    /** Every kind with its count so far (zeros included). */
    Map<UserspaceDelivery, Long> snapshot() {
        Map<UserspaceDelivery, Long> out = new EnumMap<>(UserspaceDelivery.class);
        for (UserspaceDelivery how : UserspaceDelivery.values()) {
            out.put(how, counts[how.ordinal()].sum());
        }
        return out;
    }
}
