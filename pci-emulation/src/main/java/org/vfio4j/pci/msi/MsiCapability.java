package org.vfio4j.pci.msi;

import static org.vfio4j.pci.config.PciRegisters.*;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfio4j.core.irq.MsiMessage;
import org.vfio4j.pci.caps.Capability;
import org.vfio4j.pci.config.ConfigChange;
import org.vfio4j.pci.config.ConfigSpace;

/**
 * An emulated MSI capability (id 0x05): 32- or 64-bit message address, 1..32 vectors, optional per-vector masking.
 *
 * <p>Register classes: message control's enable and multiple-message-enable fields are RW, the capable bits
 * read-only; address bits 1:0 are hardwired zero (dword aligned); data is 16 bits RW (extended message data is not
 * implemented, so the upper half reads zero); mask bits are RW for implemented vectors only; pending bits are
 * read-only, set by the function when it wants to signal a masked vector. When the guest unmasks a vector whose
 * pending bit is set, the message is sent and the bit cleared.
 *
 * <p>The device signals with {@link #trigger}; messages go to the sink given at construction (e.g.
 * {@code interruptController::signalMsi}). The sink can run with the config space lock held (on unmask), so it
 * must not block or touch this function's config space.
 *
 * <p>A guest write that reprograms MSI returns {@link ConfigChange.MsiChanged} (enable, address, data or vector
 * count) and {@link ConfigChange.MsiVectorMaskChanged} (a per-vector mask bit) from {@link ConfigSpace#guestWrite}.
 */
public final class MsiCapability implements Capability {
    private static final Logger LOG = LoggerFactory.getLogger(MsiCapability.class);

    private final int vectors;
    private final boolean address64;
    private final boolean perVectorMask;
    private final Consumer<MsiMessage> sink;
    private ConfigSpace cs;
    private int offset;
    private MsiState last;

    /**
     * @param vectors       vectors the function supports: 1, 2, 4, 8, 16 or 32
     * @param address64     64-bit message address capable
     * @param perVectorMask per-vector masking capable (adds mask and pending registers)
     * @param sink          where triggered messages go
     */
    public MsiCapability(int vectors, boolean address64, boolean perVectorMask, Consumer<MsiMessage> sink) {
        if (vectors < 1 || vectors > 32 || Integer.bitCount(vectors) != 1) {
            throw new IllegalArgumentException("MSI supports 1, 2, 4, 8, 16 or 32 vectors, not " + vectors);
        }
        this.vectors = vectors;
        this.address64 = address64;
        this.perVectorMask = perVectorMask;
        this.sink = Objects.requireNonNull(sink, "sink");
    }

    @Override
    public int id() {
        return PCI_CAP_ID_MSI;
    }

    @Override
    public int length() {
        return 10 + (address64 ? 4 : 0) + (perVectorMask ? 10 : 0);
    }

    /** Vectors the function supports. */
    public int vectors() {
        return vectors;
    }

    /** Offset of the capability in config space once installed. */
    public int offset() {
        return offset;
    }

    @Override
    public void install(ConfigSpace cs, int offset) {
        this.cs = cs;
        this.offset = offset;
        int mmc = Integer.numberOfTrailingZeros(vectors);
        int flags = (mmc << 1) | (address64 ? PCI_MSI_FLAGS_64BIT : 0) | (perVectorMask ? PCI_MSI_FLAGS_MASKBIT : 0);
        cs.setWord(offset + PCI_MSI_FLAGS, flags);
        cs.setWritable(offset + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
        cs.setWritable(offset + PCI_MSI_ADDRESS_LO, 4, 0xFFFF_FFFCL);
        if (address64) {
            cs.setWritable(offset + PCI_MSI_ADDRESS_HI, 4, 0xFFFF_FFFFL);
        }
        cs.setWritable(dataOffset(), 2, 0xFFFF);
        if (perVectorMask) {
            cs.setWritable(maskOffset(), 4, vectors == 32 ? 0xFFFF_FFFFL : (1L << vectors) - 1);
        }
        last = readState();
        cs.addWriteHook(offset, length(), (o, s, v, b, a) -> written());
    }

    /** The guest's current programming. */
    public MsiState state() {
        synchronized (cs) {
            return readState();
        }
    }

    /** The pending bits (0 without per-vector masking). */
    public int pendingBits() {
        return perVectorMask ? cs.getDword(pendingOffset()) : 0;
    }

    /**
     * Device side: signal vector {@code vector}. Sends the message when MSI is enabled, the vector is among the
     * enabled ones and unmasked; sets its pending bit when it is masked; drops it otherwise. Returns true when a
     * message was sent.
     */
    public boolean trigger(int vector) {
        MsiMessage message;
        synchronized (cs) {
            MsiState st = readState();
            if (!st.enabled() || vector < 0 || vector >= st.enabledVectors()) {
                return false;
            }
            if (st.masked(vector)) {
                cs.setBits(pendingOffset(), 4, 1L << vector);
                return false;
            }
            message = st.message(vector);
        }
        deliver(message);
        return true;
    }

    private List<ConfigChange> written() {
        MsiState now = readState();
        MsiState before = last;
        last = now;
        List<ConfigChange> changes = new ArrayList<>(1);
        if (now.enabled() != before.enabled() || now.address() != before.address() || now.data() != before.data()
                || now.enabledVectors() != before.enabledVectors()) {
            changes.add(new ConfigChange.MsiChanged(now));
        }
        int changed = now.maskBits() ^ before.maskBits();
        for (int v = 0; v < vectors; v++) {
            if ((changed >>> v & 1) != 0) {
                boolean masked = now.masked(v);
                changes.add(new ConfigChange.MsiVectorMaskChanged(v, masked));
                if (!masked && (pendingBits() >>> v & 1) != 0) {
                    cs.clearBits(pendingOffset(), 4, 1L << v);
                    if (now.enabled() && v < now.enabledVectors()) {
                        deliver(now.message(v));
                    }
                }
            }
        }
        return changes;
    }

    private MsiState readState() {
        int flags = cs.getWord(offset + PCI_MSI_FLAGS);
        long address = cs.getDword(offset + PCI_MSI_ADDRESS_LO) & 0xFFFF_FFFFL;
        if (address64) {
            address |= (cs.getDword(offset + PCI_MSI_ADDRESS_HI) & 0xFFFF_FFFFL) << 32;
        }
        int data = cs.getWord(dataOffset());
        int mme = (flags & PCI_MSI_FLAGS_QSIZE) >> 4;
        int enabledVectors = Math.min(1 << Math.min(mme, 5), vectors);
        int mask = perVectorMask ? cs.getDword(maskOffset()) : 0;
        return new MsiState((flags & PCI_MSI_FLAGS_ENABLE) != 0, address, data, enabledVectors, mask);
    }

    private int dataOffset() {
        return offset + (address64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32);
    }

    private int maskOffset() {
        return offset + (address64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32);
    }

    private int pendingOffset() {
        return offset + (address64 ? PCI_MSI_PENDING_64 : PCI_MSI_PENDING_32);
    }

    private void deliver(MsiMessage message) {
        try {
            sink.accept(message);
        } catch (RuntimeException e) {
            LOG.warn("{}: delivering {} failed", cs.name(), message, e);
        }
    }
}
