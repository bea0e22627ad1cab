package org.vfio4j.core.kvm;

/** One entry of the VM's GSI routing table ({@code struct kvm_irq_routing_entry}). */
public sealed interface GsiRoute permits GsiRoute.Irqchip, GsiRoute.Msi {

    /** The global system interrupt number the entry routes. */
    int gsi();

    /**
     * A GSI wired to a pin of the in-kernel PIC or IOAPIC ({@link KvmAbi#KVM_IRQCHIP_PIC_MASTER} and so on).
     *
     * @param gsi the GSI
     * @param irqchip which chip
     * @param pin the pin on that chip
     */
    record Irqchip(int gsi, int irqchip, int pin) implements GsiRoute {
    }

    /**
     * A GSI that, when raised, sends an MSI with this address and data.
     *
     * @param gsi the GSI
     * @param address the MSI address (0xfee..... on x86)
     * @param data the MSI data (vector and delivery mode)
     */
    record Msi(int gsi, long address, int data) implements GsiRoute {
    }
}
