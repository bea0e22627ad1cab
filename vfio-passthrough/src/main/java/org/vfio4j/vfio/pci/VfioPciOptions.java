package org.vfio4j.vfio.pci;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.vfio4j.core.DeviceEvents;
import org.vfio4j.core.event.EventLoop;

/**
 * How to attach one host PCI function to a guest. Build with {@link #builder(String)}.
 *
 * @param host the host function: a BDF ({@code 0000:01:00.0} or {@code 01:00.0}) or its sysfs path
 * @param slot the guest device number on the bus (0..31), or -1 for the lowest free slot
 * @param function the guest function number (0..7)
 * @param quirks device-specific behaviour installed at attach, in order (see {@link DeviceQuirk})
 * @param mapDma map all guest RAM into the IOMMU at IOVA = GPA (needed for any device that does DMA)
 * @param mmapBars map BARs into the guest where VFIO allows it; false traps every BAR access (slow, for
 *     comparisons and debugging)
 * @param resetOnAttach reset the function before the guest sees it (as QEMU does at machine reset)
 * @param intxGsi the GSI the function's INTx pin is wired to, or -1 to swizzle onto IOAPIC pins 16..19 as
 *     {@code 16 + (slot + pin - 1) % 4}
 * @param eventLoop the loop for userspace interrupt paths (masked MSI-X vectors, ERR, REQ); empty makes the
 *     device start (and own) a one-thread loop
 * @param events where REQ and ERR go; empty uses the VMM's {@link org.vfio4j.core.Vmm#deviceEvents()}
 */
public record VfioPciOptions(String host, int slot, int function, List<DeviceQuirk> quirks, boolean mapDma,
        boolean mmapBars, boolean resetOnAttach, int intxGsi, Optional<EventLoop> eventLoop,
        Optional<DeviceEvents> events) {

    /** Validates ranges and copies the quirk list. */
    public VfioPciOptions {
        Objects.requireNonNull(host, "host");
        if (slot < -1 || slot > 31) {
            throw new IllegalArgumentException("guest slot must be 0..31 or -1 (any): " + slot);
        }
        if (function < 0 || function > 7) {
            throw new IllegalArgumentException("guest function must be 0..7: " + function);
        }
        if (intxGsi < -1) {
            throw new IllegalArgumentException("INTx GSI must be >= 0 or -1 (swizzle): " + intxGsi);
        }
        quirks = List.copyOf(quirks);
        Objects.requireNonNull(eventLoop, "eventLoop");
        Objects.requireNonNull(events, "events");
    }

    /** Options for host function {@code host} with the defaults: any slot, DMA mapped, BARs mmapped, no reset. */
    public static Builder builder(String host) {
        return new Builder(host);
    }

    /** Builds {@link VfioPciOptions}. */
    public static final class Builder {
        private final String host;
        private int slot = -1;
        private int function;
        private final List<DeviceQuirk> quirks = new ArrayList<>();
        private boolean mapDma = true;
        private boolean mmapBars = true;
        private boolean resetOnAttach;
        private int intxGsi = -1;
        private EventLoop eventLoop;
        private DeviceEvents events;

        private Builder(String host) {
            this.host = host;
        }

        /** The guest device number (0..31). */
        public Builder slot(int slot) {
            this.slot = slot;
            return this;
        }

        /** The guest function number (0..7; default 0). */
        public Builder function(int function) {
            this.function = function;
            return this;
        }

        /** Adds a device-specific behaviour. */
        public Builder quirk(DeviceQuirk quirk) {
            quirks.add(Objects.requireNonNull(quirk, "quirk"));
            return this;
        }

        /** Whether to map guest RAM for DMA (default true). */
        public Builder mapDma(boolean on) {
            this.mapDma = on;
            return this;
        }

        /** Whether to mmap BARs into the guest where possible (default true). */
        public Builder mmapBars(boolean on) {
            this.mmapBars = on;
            return this;
        }

        /** Whether to reset the function at attach (default false). */
        public Builder resetOnAttach(boolean on) {
            this.resetOnAttach = on;
            return this;
        }

        /** The GSI of the INTx pin (default: swizzled onto 16..19). */
        public Builder intxGsi(int gsi) {
            this.intxGsi = gsi;
            return this;
        }

        /** The event loop for userspace interrupt paths (default: the device starts its own). */
        public Builder eventLoop(EventLoop loop) {
            this.eventLoop = loop;
            return this;
        }

        /** Where REQ and ERR go (default: the VMM's). */
        public Builder events(DeviceEvents events) {
            this.events = events;
            return this;
        }

        /** The options. */
        public VfioPciOptions build() {
            return new VfioPciOptions(host, slot, function, quirks, mapDma, mmapBars, resetOnAttach, intxGsi,
                    Optional.ofNullable(eventLoop), Optional.ofNullable(events));
        }
    }
}
