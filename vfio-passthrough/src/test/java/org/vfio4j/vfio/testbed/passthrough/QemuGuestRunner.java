package org.vfio4j.vfio.testbed.passthrough;

/** The tests' name for {@link org.vfio4j.vfio.machine.QemuGuestRunner} (main code, shared with the benchmark). */
public final class QemuGuestRunner extends org.vfio4j.vfio.machine.QemuGuestRunner {
    private QemuGuestRunner() {
    }
}
