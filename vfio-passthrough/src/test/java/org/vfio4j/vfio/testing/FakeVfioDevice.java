package org.vfio4j.vfio.testing;

import static org.vfio4j.vfio.uapi.VfioConstants.*;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntFunction;
import org.vfio4j.vfio.reset.DependentDevice;

/**
 * A simulated vfio-pci device for {@link FakeVfioKernel}: regions with contents and capabilities, IRQ indices, reset
 * and hot-reset behaviour. Regions are laid out as vfio-pci does (region N at device-fd offset {@code N << 40}), and
 * INFO answers follow the kernel byte for byte, including the argsz dance for capability chains.
 *
 * <p>Other modules' tests (IGD passthrough, for instance) use it to simulate devices with vendor regions:
 * <pre>{@code
 * FakeVfioDevice igd = new FakeVfioDevice("0000:00:02.0");
 * igd.region(9, 0x2000, READ).type(VFIO_REGION_TYPE_PCI_VENDOR_TYPE | 0x8086, VFIO_REGION_SUBTYPE_INTEL_IGD_OPREGION);
 * }</pre>
 */
public final class FakeVfioDevice {
    /** Region flags shorthand. */
    public static final int READ = VFIO_REGION_INFO_FLAG_READ;
    /** Region flags shorthand. */
    public static final int WRITE = VFIO_REGION_INFO_FLAG_WRITE;
    /** Region flags shorthand. */
    public static final int MMAP = VFIO_REGION_INFO_FLAG_MMAP;
    /** vfio-pci's region offset shift ({@code VFIO_PCI_OFFSET_SHIFT}, kernel-internal). */
    public static final int OFFSET_SHIFT = 40;

    final String name;
    int flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
    final TreeMap<Integer, FakeRegion> regions = new TreeMap<>();
    final TreeMap<Integer, int[]> irqs = new TreeMap<>(); // index -> {flags, count}
    final List<FakeCapability> deviceCaps = new ArrayList<>();
    List<DependentDevice> hotResetDevices;
    boolean hotResetEnospcForever;
    final Map<Integer, IntFunction<byte[]>> rawRegionInfo = new HashMap<>();

    // Observations
    final Map<Integer, int[]> triggers = new HashMap<>(); // index -> eventfd per vector (-1 none)
    final Map<Integer, boolean[]> masked = new HashMap<>();
    final Map<Integer, Integer> unmaskFds = new HashMap<>();
    int resets;
    int hotResets;
    /** PM capability offset when the device models memory enable (command bit and power state); -1 when not. */
    int pmCap = -1;
    boolean memoryEnabled = true;
    /** Runs (in the fake kernel, before the zap) when the device's memory goes from enabled to disabled. */
    public volatile Runnable onMemoryDisabled = () -> { };
    /**
     * Config bytes that ignore writes, as read-only registers do in hardware (identity, capability headers and
     * pointers, sizes). Empty by default: every config byte takes what is written.
     */
    public final java.util.BitSet configReadOnly = new java.util.BitSet();
    /** Sees every config-region write (offset, length) before it lands, in the fake kernel. */
    public volatile java.util.function.BiConsumer<Integer, Integer> onConfigWrite = (offset, length) -> { };
    final Map<Integer, Integer> enabledVectors = new HashMap<>();
    int[] lastHotResetGroupIds = new int[0];

    /** A device with no regions or IRQs yet; add them before the kernel hands it out. */
    public FakeVfioDevice(String name) {
        this.name = name;
    }

    /** The device name (its BDF). */
    public String name() {
        return name;
    }

    /** True for a vfio-platform or vfio-amba device (PLATFORM or AMBA flag): SET_IRQS follows vfio-platform. */
    boolean platform() {
        return (flags & (VFIO_DEVICE_FLAGS_PLATFORM | VFIO_DEVICE_FLAGS_AMBA)) != 0;
    }

    /** Replaces the device info flags (default PCI | RESET). */
    public FakeVfioDevice flags(int flags) {
        this.flags = flags;
        return this;
    }

    /** Adds region {@code index}. */
    public FakeRegion region(int index, long size, int flags) {
        FakeRegion r = new FakeRegion(index, size, flags);
        regions.put(index, r);
        return r;
    }

    /** The region at {@code index}, or null. */
    public FakeRegion region(int index) {
        return regions.get(index);
    }

    /** Adds IRQ index {@code index} with {@code VFIO_IRQ_INFO_*} flags and a vector count. */
    public FakeVfioDevice irq(int index, int flags, int count) {
        irqs.put(index, new int[] {flags, count});
        return this;
    }

    /** Adds a device-info capability. */
    public FakeVfioDevice deviceCap(int id, int version, byte[] body) {
        deviceCaps.add(new FakeCapability(id, version, body));
        flags |= VFIO_DEVICE_FLAGS_CAPS;
        return this;
    }

    /** The devices a hot reset affects (this one included); null (default) means hot reset answers ENODEV. */
    public FakeVfioDevice hotResetDevices(List<DependentDevice> devices) {
        this.hotResetDevices = devices == null ? null : List.copyOf(devices);
        return this;
    }

    /** Makes GET_PCI_HOT_RESET_INFO answer ENOSPC forever, each time asking for one more device than offered. */
    public FakeVfioDevice hotResetEnospcForever() {
        this.hotResetEnospcForever = true;
        return this;
    }

    /**
     * Replaces the kernel's region-info answer for {@code index}: the function gets the caller's argsz and returns the
     * bytes the kernel writes back (at most argsz of them are copied). For malformed chains a kernel can't produce.
     */
    public FakeVfioDevice rawRegionInfo(int index, IntFunction<byte[]> answer) {
        rawRegionInfo.put(index, answer);
        return this;
    }

    int numRegions() {
        // vfio-pci always counts its fixed indexes; vfio-platform counts the device's resources.
        return Math.max(platform() ? 0 : VFIO_PCI_NUM_REGIONS, regions.isEmpty() ? 0 : regions.lastKey() + 1);
    }

    int numIrqs() {
        return Math.max(platform() ? 0 : VFIO_PCI_NUM_IRQS, irqs.isEmpty() ? 0 : irqs.lastKey() + 1);
    }

    /** The eventfds assigned to the vectors of {@code index} (-1 for none); empty when the index is disabled. */
    public int[] triggers(int index) {
        int[] t = triggers.get(index);
        return t == null ? new int[0] : t.clone();
    }

    /** Whether vector {@code vector} of {@code index} is masked. */
    public boolean masked(int index, int vector) {
        boolean[] m = masked.get(index);
        return m != null && vector < m.length && m[vector];
    }

    /**
     * Makes the device answer as vfio-pci does when its memory is disabled: with PCI_COMMAND_MEMORY clear or the
     * PM capability at {@code pmCapOffset} in D3hot, memory-BAR preads and pwrites fail with EIO and the BAR mmaps
     * are zapped (an access through one faults; a KVM memslot over one makes KVM_RUN fail with EFAULT). They come
     * back when memory is enabled again. Off by default.
     */
    public FakeVfioDevice modelMemoryEnable(int pmCapOffset) {
        this.pmCap = pmCapOffset;
        return this;
    }

    /** Whether memory BARs answer (always true unless {@link #modelMemoryEnable} is on). */
    public boolean memoryEnabled() {
        return memoryEnabled;
    }

    /**
     * How many vectors of {@code index} the library enabled (host vectors allocated: the highest start + count of a
     * trigger since the index was last disabled); 0 when disabled.
     */
    public int enabledVectors(int index) {
        return enabledVectors.getOrDefault(index, 0);
    }

    /** The unmask (resample) eventfd of {@code index}, or -1. */
    public int unmaskFd(int index) {
        return unmaskFds.getOrDefault(index, -1);
    }

    /** How many VFIO_DEVICE_RESETs succeeded. */
    public int resets() {
        return resets;
    }

    /** How many VFIO_DEVICE_PCI_HOT_RESETs succeeded. */
    public int hotResets() {
        return hotResets;
    }

    /** The group ids whose fds the last hot reset passed. */
    public int[] lastHotResetGroupIds() {
        return lastHotResetGroupIds.clone();
    }
}
