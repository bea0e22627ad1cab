package org.vfio4j.vfio.testbed.passthrough;

import org.vfio4j.core.sys.Syscalls;

/**
 * The tests' name for {@link org.vfio4j.vfio.machine.GuestMachine} (the one implementation, in main code, shared
 * with the demo VMM); it adds nothing, so that the tests of this package keep their short names.
 */
public class GuestMachine extends org.vfio4j.vfio.machine.GuestMachine {
    /** See {@link org.vfio4j.vfio.machine.GuestMachine#GuestMachine(Syscalls, long)}. */
    public GuestMachine(Syscalls sys, long ramBytes) {
        super(sys, ramBytes);
    }
}
