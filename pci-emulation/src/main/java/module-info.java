/**
 * pci-emulation: PCI config space with per-bit semantics, capabilities, BARs, MSI and MSI-X, the host bridge and the
 * BAR allocator, for emulated functions and as the base of passed-through ones.
 */
module org.vfio4j.pci {
    requires transitive org.vfio4j.core;
    requires com.google.guice;
    requires org.slf4j;

    exports org.vfio4j.pci;
    exports org.vfio4j.pci.bar;
    exports org.vfio4j.pci.bus;
    exports org.vfio4j.pci.caps;
    exports org.vfio4j.pci.config;
    exports org.vfio4j.pci.msi;
    exports org.vfio4j.pci.msix;

    // Guice calls PciEmulationModule's @Provides methods reflectively.
    opens org.vfio4j.pci to com.google.guice;
}
