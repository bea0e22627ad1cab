package org.vfio4j.vfio.pci;

import org.vfio4j.vfio.testing.FakeVfioDevice;

/** Region flag shorthands for tests in this package. */
final class PassthroughRigFlags {
    static final int READ = FakeVfioDevice.READ;

    private PassthroughRigFlags() {
    }
}
