package org.vfio4j.vfio.pci;

import org.vfio4j.core.Vmm;
import org.vfio4j.pci.bus.PciAddress;
import org.vfio4j.pci.bus.PciBus;
import org.vfio4j.pci.config.ConfigSpace;
import org.vfio4j.vfio.Vfio;
import org.vfio4j.vfio.VfioStack;

/**
 * A host PCI function passed through to a guest with VFIO: one of the VMM's PCI functions whose config space is
 * virtualized, whose BARs are mapped into the guest where VFIO allows it (trapped elsewhere), whose interrupts are
 * routed to the guest, and which can DMA into all of guest RAM.
 *
 * <pre>{@code
 * try (VfioPciDevice dev = VfioPciDevice.attach(vfio, vmm, hostBridge.rootBus(),
 *         VfioPciOptions.builder("0000:01:00.0").slot(3).build())) {
 *     ... run the guest ...
 * }
 * }</pre>
 */
public final class VfioPciDevice implements AutoCloseable {

    private VfioPciDevice() {
    }

    /**
     * Opens the host function named in {@code options} (a new container and its group) and attaches it to
     * {@code bus}. On failure everything opened so far is released and the exception says which step failed.
     */
    public static VfioPciDevice attach(Vfio vfio, Vmm vmm, PciBus bus, VfioPciOptions options) {
        throw new UnsupportedOperationException("skeleton");
    }

    /**
     * Attaches a function already opened as {@code stack}; the device takes ownership of the stack and closes it at
     * detach (also when attach fails).
     */
    public static VfioPciDevice attach(VfioStack stack, Vmm vmm, PciBus bus, VfioPciOptions options) {
        throw new UnsupportedOperationException("skeleton");
    }

    /** The host function's name (its BDF). */
    public String name() {
        throw new UnsupportedOperationException("skeleton");
    }

    /** Where the function sits on the guest bus. */
    public PciAddress address() {
        throw new UnsupportedOperationException("skeleton");
    }

    /** The guest-visible config space (virtualized; non-emulated bits reach the device). */
    public ConfigSpace config() {
        throw new UnsupportedOperationException("skeleton");
    }

    /** The VFIO container, group and device this function uses. */
    public VfioStack stack() {
        throw new UnsupportedOperationException("skeleton");
    }

    /** A snapshot of the mapping layout and counters. */
    public VfioPciCounters counters() {
        throw new UnsupportedOperationException("skeleton");
    }

    /** The interrupt mode the guest enabled. */
    public InterruptMode interruptMode() {
        throw new UnsupportedOperationException("skeleton");
    }

    /**
     * Resets the function: {@code VFIO_DEVICE_RESET} when the device supports it, else a PCI hot reset when this
     * VMM owns every group in the dependency list, else nothing. Interrupts are torn down first; the virtualized
     * config state (BARs, command, MSI/MSI-X programming) is written back afterwards.
     *
     * @return the reset used
     */
    public ResetMethod reset() {
        throw new UnsupportedOperationException("skeleton");
    }

    /** True until {@link #detach()}. */
    public boolean isAttached() {
        throw new UnsupportedOperationException("skeleton");
    }

    /**
     * Removes the function from the guest bus and releases everything it holds: trap registrations, memslots,
     * mmaps, irqfds, MSI routes, DMA mappings, the KVM-VFIO registration, the event loop it started, and the VFIO
     * device, group and container. Idempotent.
     */
    public void detach() {
        throw new UnsupportedOperationException("skeleton");
    }

    /** Same as {@link #detach()}. */
    @Override
    public void close() {
        detach();
    }
}
