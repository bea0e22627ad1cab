package org.vfio4j.vfio.igd;

import static org.vfio4j.vfio.uapi.VfioConstants.VFIO_PCI_NUM_REGIONS;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfio4j.core.util.Closer;
import org.vfio4j.vfio.pci.QuirkContext;
import org.vfio4j.vfio.region.RegionInfo;
import org.vfio4j.vfio.region.RegionType;
import org.vfio4j.vfio.region.VfioRegion;

/**
 * The device-specific regions of a vfio-pci device and who handles them. vfio-pci puts such regions after its fixed
 * indices (BAR0..BAR5, ROM, CONFIG, VGA), so at index {@value org.vfio4j.vfio.uapi.VfioConstants#VFIO_PCI_NUM_REGIONS}
 * and above, and says what each is with the region-type capability. Handlers claim (type, subtype) pairs; a region
 * nobody claims is logged and otherwise ignored (vfio-inspect lists it with its type).
 */
final class DeviceRegionRegistry {
    private static final Logger LOG = LoggerFactory.getLogger(DeviceRegionRegistry.class);

    private final Map<RegionType, DeviceRegionHandler> handlers = new LinkedHashMap<>();

    /** An empty registry. */
    public DeviceRegionRegistry() {
    }

    /**
     * Adds {@code handler} for the pair it {@linkplain DeviceRegionHandler#claims() claims}.
     *
     * @throws IllegalStateException when another handler already claims that pair
     */
    public DeviceRegionRegistry register(DeviceRegionHandler handler) {
        Objects.requireNonNull(handler, "handler");
        DeviceRegionHandler old = handlers.putIfAbsent(handler.claims(), handler);
        if (old != null) {
            throw new IllegalStateException(handler.claims() + " is already claimed by " + old.name()
                    + "; cannot register " + handler.name());
        }
        return this;
    }

    /** The handler claiming {@code type}, if any. */
    public Optional<DeviceRegionHandler> handler(RegionType type) {
        return Optional.ofNullable(handlers.get(type));
    }

    /**
     * The device-specific regions among {@code regions}: index at or above {@code VFIO_PCI_NUM_REGIONS}, non-empty,
     * and carrying a region-type capability. In index order.
     */
    public static List<RegionInfo> deviceSpecific(List<RegionInfo> regions) {
        List<RegionInfo> out = new ArrayList<>();
        for (RegionInfo r : regions) {
            if (r.index() >= VFIO_PCI_NUM_REGIONS && r.size() > 0 && r.type().isPresent()) {
                out.add(r);
            }
        }
        out.sort((a, b) -> Integer.compare(a.index(), b.index()));
        return out;
    }

    /**
     * Which region goes to which handler.
     *
     * @param claimed region to handler, in index order
     * @param unclaimed device-specific regions no handler claims
     */
    public record Plan(Map<RegionInfo, DeviceRegionHandler> claimed, List<RegionInfo> unclaimed) {
        /** Copies. */
        public Plan {
            claimed = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(claimed));
            unclaimed = List.copyOf(unclaimed);
        }

        /** The region claimed as {@code type}, if the device has one. */
        public Optional<RegionInfo> region(RegionType type) {
            return claimed.keySet().stream().filter(r -> r.type().orElseThrow().equals(type)).findFirst();
        }
    }

    /** Matches the device-specific regions of {@code regions} against the handlers. */
    public Plan plan(List<RegionInfo> regions) {
        Map<RegionInfo, DeviceRegionHandler> claimed = new LinkedHashMap<>();
        List<RegionInfo> unclaimed = new ArrayList<>();
        for (RegionInfo r : deviceSpecific(regions)) {
            DeviceRegionHandler h = handlers.get(r.type().orElseThrow());
            if (h == null || claimed.containsValue(h)) {
                unclaimed.add(r); // a second region of a claimed type is not something the kernel produces
            } else {
                claimed.put(r, h);
            }
        }
        return new Plan(claimed, unclaimed);
    }

    /**
     * Runs the claimed handlers of {@code plan} in index order. If one throws, those already installed are undone
     * before the exception propagates.
     *
     * @return what undoes every handler, in reverse order
     */
    public static AutoCloseable install(QuirkContext context, Plan plan) {
        for (RegionInfo r : plan.unclaimed()) {
            LOG.info("{}: region {} ({}) has no handler; ignored", context.name(), r.index(),
                    r.type().orElseThrow());
        }
        Deque<AutoCloseable> undo = new ArrayDeque<>();
        try {
            for (Map.Entry<RegionInfo, DeviceRegionHandler> e : plan.claimed().entrySet()) {
                VfioRegion region = new VfioRegion(context.device().descriptor(), e.getKey());
                undo.push(e.getValue().install(context, region));
                LOG.info("{}: region {} ({}) handled by {}", context.name(), e.getKey().index(),
                        e.getKey().type().orElseThrow(), e.getValue().name());
            }
        } catch (RuntimeException e) {
            closeAll(undo, e);
            throw e;
        }
        return () -> closeAll(undo);
    }

    /** Closes what {@code undo} holds, newest first, each even when one fails; throws the first failure. */
    static void closeAll(Deque<AutoCloseable> undo) {
        Closer closer = new Closer();
        while (!undo.isEmpty()) {
            closer.close(undo.pop());
        }
        closer.rethrow();
    }

    /** After a failed install: closes what {@code undo} holds, newest first, adding failures to {@code into}. */
    static void closeAll(Deque<AutoCloseable> undo, Throwable into) {
        Closer closer = new Closer();
        closer.add(into);
        while (!undo.isEmpty()) {
            closer.close(undo.pop());
        }
    }
}
