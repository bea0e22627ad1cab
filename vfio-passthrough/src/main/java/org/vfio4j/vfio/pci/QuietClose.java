package org.vfio4j.vfio.pci;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes a kernel object (an irqfd binding, a route, a loop watch, an eventfd) while an interrupt mode is torn down:
 * a failure is logged, not thrown, so the rest of the teardown runs and the guest keeps a consistent mode. Errors
 * still propagate.
 */
final class QuietClose {
    private static final Logger LOG = LoggerFactory.getLogger(QuietClose.class);

    private QuietClose() {
    }

    static void close(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception e) {
            LOG.warn("closing {} failed", c, e);
        }
    }
}
