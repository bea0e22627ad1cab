package org.vfio4j.pci.bus;

import static org.vfio4j.pci.config.PciRegisters.PCI_HEADER_TYPE;
import static org.vfio4j.pci.config.PciRegisters.PCI_HEADER_TYPE_MFD;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.vfio4j.pci.config.ConfigAccess;

/**
 * One PCI bus: 32 device slots of 8 functions each, routing configuration accesses to the functions attached.
 *
 * <p>As on hardware, an empty slot or function reads all-ones (which software sees as vendor ID 0xFFFF), functions
 * 1..7 are only visible when function 0 is present, and a slot with more than one function reports itself
 * multi-function: the bus sets bit 7 of function 0's header type on reads, so a guest scans functions 1..7.
 * Lookups are lock-free; attach and detach are safe at any time.
 */
public final class PciBus {
    private final int number;
    private final AtomicReferenceArray<ConfigAccess> functions = new AtomicReferenceArray<>(256);

    /** An empty bus with the given bus number (fixed for the root bus; a bridge's secondary bus number). */
    public PciBus(int number) {
        this.number = number;
    }

    /** The bus number given at construction. */
    public int number() {
        return number;
    }

    /** Attaches {@code function} at {@code device.fn}; rejects an occupied slot. */
    public PciAddress attach(int device, int fn, ConfigAccess function) {
        PciAddress address = new PciAddress(number, device, fn);
        if (!functions.compareAndSet(address.devfn(), null, function)) {
            throw new IllegalStateException("PCI function " + address + " is already attached");
        }
        return address;
    }

    /** Attaches {@code function} as function 0 of the lowest free device slot. */
    public PciAddress attach(ConfigAccess function) {
        for (int dev = 0; dev < 32; dev++) {
            if (functions.compareAndSet(dev << 3, null, function)) {
                return new PciAddress(number, dev, 0);
            }
        }
        throw new IllegalStateException("PCI bus " + number + " has no free device slot");
    }

    /** Detaches and returns the function at {@code device.fn}, or {@code null} if the slot was empty. */
    public ConfigAccess detach(int device, int fn) {
        return functions.getAndSet(new PciAddress(number, device, fn).devfn(), null);
    }

    /** The function at {@code device.fn}, or {@code null}. */
    public ConfigAccess function(int device, int fn) {
        if (device < 0 || device > 31 || fn < 0 || fn > 7) {
            return null;
        }
        return functions.get(device << 3 | fn);
    }

    /** The addresses of all attached functions, in devfn order. */
    public List<PciAddress> addresses() {
        List<PciAddress> out = new ArrayList<>();
        for (int devfn = 0; devfn < 256; devfn++) {
            if (functions.get(devfn) != null) {
                out.add(new PciAddress(number, devfn >>> 3, devfn & 7));
            }
        }
        return out;
    }

    /** True when device slot {@code device} has any function besides function 0. */
    public boolean isMultiFunction(int device) {
        for (int fn = 1; fn < 8; fn++) {
            if (functions.get(device << 3 | fn) != null) {
                return true;
            }
        }
        return false;
    }

    /** A configuration read of {@code device.fn}; all-ones when nothing answers. */
    public long read(int device, int fn, int offset, int size) {
        ConfigAccess f = visible(device, fn);
        if (f == null) {
            return ConfigAccess.allOnes(size);
        }
        long v = f.read(offset, size);
        if (fn == 0 && offset <= PCI_HEADER_TYPE && offset + size > PCI_HEADER_TYPE && isMultiFunction(device)
                && ConfigAccess.isValidAccess(f.length(), offset, size)) {
            v |= (long) PCI_HEADER_TYPE_MFD << ((PCI_HEADER_TYPE - offset) * 8);
        }
        return v;
    }

    /** A configuration write to {@code device.fn}; dropped when nothing is there. */
    public void write(int device, int fn, int offset, int size, long value) {
        ConfigAccess f = visible(device, fn);
        if (f != null) {
            f.write(offset, size, value);
        }
    }

    private ConfigAccess visible(int device, int fn) {
        if (function(device, 0) == null) {
            return null;
        }
        return function(device, fn);
    }

    @Override
    public String toString() {
        return "PciBus[" + number + ", " + addresses() + "]";
    }
}
