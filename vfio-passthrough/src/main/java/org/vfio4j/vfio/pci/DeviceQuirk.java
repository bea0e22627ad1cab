package org.vfio4j.vfio.pci;

/**
 * Device-specific behaviour (what QEMU calls a quirk): a register the VMM must emulate, a vendor region to expose,
 * companion functions to populate. Installed during attach, after the config space is virtualized and the BARs are
 * defined, before the function appears on the guest bus and before any BAR is mapped.
 *
 * <p>An implementation decides with {@link #appliesTo} (typically by vendor/device id from
 * {@link QuirkContext#config()}) and then changes what it needs through the context. Whatever it creates it undoes
 * in the {@link AutoCloseable} it returns, which detach closes (in reverse installation order).
 */
public interface DeviceQuirk {

    /** A short name for logs and errors (e.g. "igd-opregion"). */
    String name();

    /** True when this quirk is for the device described by {@code context}. */
    boolean appliesTo(QuirkContext context);

    /**
     * Applies the quirk.
     *
     * @return what undoes it at detach; {@code () -> {}} when nothing needs undoing
     * @throws RuntimeException to refuse the attach (the message should say why); the device is then released
     */
    AutoCloseable install(QuirkContext context);
}
