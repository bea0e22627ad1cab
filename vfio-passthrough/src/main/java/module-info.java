/**
 * vfio-passthrough: the Linux VFIO uAPI (container, group, device, IOMMU, regions, IRQs, reset, iommufd) and the
 * passthrough device {@link org.vfio4j.vfio.pci.VfioPciDevice} with its options, factory, counters and quirks.
 */
module org.vfio4j.vfio {
    requires transitive org.vfio4j.core;
    requires transitive org.vfio4j.pci;
    requires transitive com.google.guice;
    requires transitive jakarta.inject;
    requires org.slf4j;

    exports org.vfio4j.vfio;
    exports org.vfio4j.vfio.caps;
    exports org.vfio4j.vfio.errors;
    exports org.vfio4j.vfio.igd;
    exports org.vfio4j.vfio.iommu;
    exports org.vfio4j.vfio.iommufd;
    exports org.vfio4j.vfio.irq;
    exports org.vfio4j.vfio.pci;
    exports org.vfio4j.vfio.region;
    exports org.vfio4j.vfio.reset;
    exports org.vfio4j.vfio.sysfs;
    exports org.vfio4j.vfio.uapi;
    exports org.vfio4j.vfio.vga;

    // Guice injects Vfio, VfioModule's providers and the factory reflectively.
    opens org.vfio4j.vfio to com.google.guice;
    opens org.vfio4j.vfio.iommufd to com.google.guice;
    opens org.vfio4j.vfio.pci to com.google.guice;
}
