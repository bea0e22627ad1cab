/**
 * vmm-core: the SPI a host VMM implements ({@code org.vfio4j.core}), the KVM backend, the Netty eventfd loop, the
 * native layer and the small shared helpers.
 */
module org.vfio4j.core {
    requires transitive com.google.guice;
    requires transitive com.sun.jna;
    requires io.netty.common;
    requires io.netty.transport;
    requires io.netty.transport.classes.epoll;
    requires io.netty.transport.unix.common;
    requires org.slf4j;

    exports org.vfio4j.core;
    exports org.vfio4j.core.bus;
    exports org.vfio4j.core.event;
    exports org.vfio4j.core.irq;
    exports org.vfio4j.core.kvm;
    exports org.vfio4j.core.memory;
    exports org.vfio4j.core.sys;
    exports org.vfio4j.core.util;

    // Guice calls the modules' @Provides methods reflectively; JNA registers and fills the native layer's methods
    // and structures.
    opens org.vfio4j.core to com.google.guice;
    opens org.vfio4j.core.event to com.google.guice;
    opens org.vfio4j.core.kvm to com.google.guice, com.sun.jna;
    opens org.vfio4j.core.sys to com.sun.jna;
}
