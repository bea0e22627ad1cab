package org.vfio4j.core;

/**
 * Tells the hypervisor which VFIO groups a VM uses (with KVM: the KVM-VFIO pseudo device's
 * {@code KVM_DEV_VFIO_GROUP_ADD}/{@code _DEL}), so it can handle non-coherent DMA and hand the group to architecture
 * code. A passthrough device registers its group on attach and closes the registration on detach.
 */
public interface VfioGroupRegistrar {

    /**
     * Registers the VFIO group open as {@code groupFd}. The fd must stay open until the returned registration is
     * closed.
     *
     * @param name the group, for error messages (e.g. "vfio group 7")
     * @return the registration; closing it unregisters the group; closing twice is harmless
     */
    Registration addGroup(int groupFd, String name);

    /** One registered group. */
    interface Registration extends AutoCloseable {
        /** Unregisters the group. Idempotent; never throws (a failure is logged). */
        @Override
        void close();
    }
}
