package org.vfio4j.pci;

import com.google.inject.PrivateModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import java.util.Objects;
import org.vfio4j.pci.bus.BarAllocator;
import org.vfio4j.pci.bus.ConfigMechanism1;
import org.vfio4j.pci.bus.EcamHandler;
import org.vfio4j.pci.bus.PciHostBridge;
import org.vfio4j.pci.config.PciIdentity;

/**
 * Guice wiring of the emulated PCI hierarchy. Exposes one {@link PciHostBridge}, its {@link ConfigMechanism1} and
 * {@link EcamHandler} trap handlers (to be registered by the VMM at port 0xCF8 and at its ECAM base) and a
 * {@link BarAllocator} over the given windows; everything else stays private.
 */
public final class PciEmulationModule extends PrivateModule {

    /**
     * What the module builds.
     *
     * @param hostBridge identity of the host bridge function at 00:00.0, or {@code null} for none
     * @param ecamBuses  buses the ECAM window covers (1 MiB each)
     * @param ioWindow   I/O window for BAR placement
     * @param mem32      32-bit MMIO window for BAR placement
     * @param mem64      64-bit MMIO window, or {@code null}
     */
    public record Settings(PciIdentity hostBridge, int ecamBuses, BarAllocator.Window ioWindow,
                           BarAllocator.Window mem32, BarAllocator.Window mem64) {

        /** Validates the required parts. */
        public Settings {
            Objects.requireNonNull(ioWindow, "ioWindow");
            Objects.requireNonNull(mem32, "mem32");
            if (ecamBuses < 1 || ecamBuses > 256) {
                throw new IllegalArgumentException("ECAM covers 1..256 buses, not " + ecamBuses);
            }
        }

        /**
         * A PC-like layout: QEMU's host bridge id, 256 ECAM buses, I/O 0xC000..0xFFFF, 32-bit MMIO
         * 0xC000_0000..0xFBFF_FFFF, 64-bit MMIO 64 GiB at 1 TiB.
         */
        public static Settings defaults() {
            return new Settings(PciHostBridge.DEFAULT_IDENTITY, 256, new BarAllocator.Window(0xC000, 0x4000),
                    new BarAllocator.Window(0xC000_0000L, 0x3C00_0000L),
                    new BarAllocator.Window(1L << 40, 64L << 30));
        }
    }

    private final Settings settings;

    /** A module building the hierarchy described by {@code settings}. */
    public PciEmulationModule(Settings settings) {
        this.settings = Objects.requireNonNull(settings, "settings");
    }

    @Override
    protected void configure() {
        bind(Settings.class).toInstance(settings);
        expose(PciHostBridge.class);
        expose(ConfigMechanism1.class);
        expose(EcamHandler.class);
        expose(BarAllocator.class);
    }

    @Provides
    @Singleton
    PciHostBridge hostBridge(Settings s) {
        return new PciHostBridge(s.hostBridge());
    }

    @Provides
    @Singleton
    ConfigMechanism1 mechanism1(PciHostBridge host) {
        return new ConfigMechanism1(host);
    }

    @Provides
    @Singleton
    EcamHandler ecam(PciHostBridge host, Settings s) {
        return new EcamHandler(host, s.ecamBuses());
    }

    @Provides
    @Singleton
    BarAllocator barAllocator(Settings s) {
        return new BarAllocator(s.ioWindow(), s.mem32(), s.mem64());
    }
}
