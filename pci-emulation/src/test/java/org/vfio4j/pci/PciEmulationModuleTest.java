package org.vfio4j.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import com.google.inject.Guice;
import com.google.inject.Injector;
import org.junit.jupiter.api.Test;
import org.vfio4j.pci.bus.ConfigMechanism1;
import org.vfio4j.pci.bus.EcamHandler;
import org.vfio4j.pci.bus.PciHostBridge;

/** The Guice module exposes one hierarchy whose handlers reach the same functions. */
class PciEmulationModuleTest {

    @Test
    void exposedHandlersShareOneHostBridge() {
        Injector injector = Guice.createInjector(new PciEmulationModule(PciEmulationModule.Settings.defaults()));
        PciHostBridge host = injector.getInstance(PciHostBridge.class);
        assertSame(host, injector.getInstance(PciHostBridge.class));
        TestFunction f = new TestFunction();
        host.rootBus().attach(4, 0, f.config);
        ConfigMechanism1 cf8 = injector.getInstance(ConfigMechanism1.class);
        cf8.write(0, 4, 0x8000_0000L | 4 << 11);
        assertEquals(0x1041_1af4L, cf8.read(4, 4));
        EcamHandler ecam = injector.getInstance(EcamHandler.class);
        assertEquals(256L << 20, ecam.length());
        assertEquals(0x1041_1af4L, ecam.read(4L << 15, 4));
    }
}
