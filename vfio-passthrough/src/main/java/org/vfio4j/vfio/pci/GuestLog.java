package org.vfio4j.vfio.pci;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;

/**
 * Log lines a guest can cause (a failed BAR placement, a config access the device refused, a handler that failed),
 * limited per device and cause so a guest cannot flood the host log: the first {@value #FIRST} occurrences of a
 * cause are logged, after that only the 2^k-th (so n occurrences cost about {@value #FIRST} + log2(n) lines), each
 * saying how many came before. Only the first occurrence carries a stack trace. Lines left out are counted.
 */
final class GuestLog {
    static final int FIRST = 3;

    private final Logger log;
    private final String name;
    private final ConcurrentHashMap<String, AtomicLong> counts = new ConcurrentHashMap<>();
    private final LongAdder suppressed = new LongAdder();

    GuestLog(Logger log, String name) {
        this.log = log;
        this.name = name;
    }

    /** Lines left out so far. */
    long suppressed() {
        return suppressed.sum();
    }

    /** Logs {@code message} (already formatted) at WARN for {@code cause}, when the limit allows it. */
    void warn(String cause, String message, Throwable failure) {
        long n = counts.computeIfAbsent(cause, k -> new AtomicLong()).incrementAndGet();
        if (n > FIRST && (n & (n - 1)) != 0) {
            suppressed.increment();
            return;
        }
        String tail = n > FIRST ? " (occurrence " + n + " of '" + cause + "'; the ones between logged lines were left "
                + "out)" : "";
        if (failure == null) {
            log.warn("{}: {}{}", name, message, tail);
        } else if (n == 1) {
            log.warn("{}: {}{}", name, message, tail, failure);
        } else {
            log.warn("{}: {}: {}{}", name, message, failure, tail);
        }
    }
}
