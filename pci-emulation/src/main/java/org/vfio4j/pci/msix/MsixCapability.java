package org.vfio4j.pci.msix;

import static org.vfio4j.pci.config.PciRegisters.*;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfio4j.core.bus.TrapHandler;
import org.vfio4j.core.irq.MsiMessage;
import org.vfio4j.pci.caps.Capability;
import org.vfio4j.pci.config.ConfigChange;
import org.vfio4j.pci.config.ConfigSpace;

/**
 * An emulated MSI-X capability (id 0x11) with its vector table and pending bit array (PBA).
 *
 * <p>The capability's message control has the table size (read-only), function mask and enable (RW); the table and
 * PBA offset registers are read-only and say in which BAR, at which offsets, the owner placed the structures. The
 * owner registers {@link #tableHandler()} at BAR base + table offset and {@link #pbaHandler()} at BAR base + PBA
 * offset.
 *
 * <p>Table: 16 bytes per entry (address low, address high, data, vector control); only bit 0 of vector control
 * (mask) is writable and every entry starts masked, as the spec requires after reset. The table and PBA take
 * aligned dword and qword accesses (the spec's rule); other sizes or misaligned accesses read all-ones and are
 * dropped. The PBA is read-only.
 *
 * <p>Signalling ({@link #trigger}): with MSI-X enabled, a vector that is masked (by its entry or the function mask)
 * sets its pending bit instead; when it becomes unmasked with the bit set, the message is sent and the bit cleared.
 *
 * <p>What the guest changes is returned, not announced: a write of the enable or function-mask bit returns
 * {@link ConfigChange.MsixControlChanged} from {@link ConfigSpace#guestWrite}, and a table write that changes an
 * entry's message or mask while MSI-X is enabled returns {@link ConfigChange.MsixVectorChanged} from
 * {@link #writeTable}. A vector delivers when MSI-X is enabled, the function mask is clear and its entry's mask bit
 * is clear; the owner reads the entry ({@link #message}, {@link #isVectorMasked}) when it applies a change.
 */
public final class MsixCapability implements Capability {
    private static final Logger LOG = LoggerFactory.getLogger(MsixCapability.class);
    /** Most vectors an MSI-X table can have. */
    public static final int MAX_VECTORS = 2048;

    private final int vectors;
    private final int tableBar;
    private final long tableOffset;
    private final int pbaBar;
    private final long pbaOffset;
    private final Consumer<MsiMessage> sink;
    private final Object lock = new Object();
    private final int[] table;
    private final long[] pba;
    private boolean enabled;
    private boolean functionMasked;
    private String name = "msix";
    private ConfigSpace cs;
    private int offset;

    /**
     * @param vectors     table size, 1..2048
     * @param tableBar    BAR index (0..5) holding the table
     * @param tableOffset table offset in that BAR, qword aligned
     * @param pbaBar      BAR index (0..5) holding the PBA
     * @param pbaOffset   PBA offset in that BAR, qword aligned
     * @param sink        where sent messages go (e.g. {@code interruptController::signalMsi})
     */
    public MsixCapability(int vectors, int tableBar, long tableOffset, int pbaBar, long pbaOffset,
                          Consumer<MsiMessage> sink) {
        if (vectors < 1 || vectors > MAX_VECTORS) {
            throw new IllegalArgumentException("MSI-X table size must be 1..2048, not " + vectors);
        }
        checkPlacement("table", tableBar, tableOffset);
        checkPlacement("PBA", pbaBar, pbaOffset);
        long tableEnd = tableOffset + 16L * vectors;
        long pbaEnd = pbaOffset + pbaBytes(vectors);
        if (tableBar == pbaBar && tableOffset < pbaEnd && pbaOffset < tableEnd) {
            throw new IllegalArgumentException("MSI-X table and PBA overlap in BAR " + tableBar);
        }
        this.vectors = vectors;
        this.tableBar = tableBar;
        this.tableOffset = tableOffset;
        this.pbaBar = pbaBar;
        this.pbaOffset = pbaOffset;
        this.sink = Objects.requireNonNull(sink, "sink");
        this.table = new int[vectors * 4];
        this.pba = new long[(vectors + 63) / 64];
        for (int v = 0; v < vectors; v++) {
            table[v * 4 + 3] = PCI_MSIX_ENTRY_CTRL_MASKBIT;
        }
    }

    private static void checkPlacement(String what, int bar, long off) {
        if (bar < 0 || bar > 5 || off < 0 || off > 0xFFFF_FFF8L || (off & 7) != 0) {
            throw new IllegalArgumentException("MSI-X " + what + " at BAR " + bar + " offset 0x"
                    + Long.toHexString(off) + ": BAR must be 0..5, offset qword aligned and 32-bit");
        }
    }

    private static long pbaBytes(int vectors) {
        return 8L * ((vectors + 63) / 64);
    }

    @Override
    public int id() {
        return PCI_CAP_ID_MSIX;
    }

    @Override
    public int length() {
        return 12;
    }

    @Override
    public void install(ConfigSpace cs, int offset) {
        this.cs = cs;
        this.offset = offset;
        this.name = cs.name();
        cs.setWord(offset + PCI_MSIX_FLAGS, vectors - 1);
        cs.setWritable(offset + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
        cs.setDword(offset + PCI_MSIX_TABLE, (int) tableOffset | tableBar);
        cs.setDword(offset + PCI_MSIX_PBA, (int) pbaOffset | pbaBar);
        cs.addWriteHook(offset + PCI_MSIX_FLAGS, 2, (o, s, v, b, a) -> controlWritten());
    }

    /** Table size. */
    public int vectors() {
        return vectors;
    }

    /** BAR holding the table. */
    public int tableBar() {
        return tableBar;
    }

    /** Offset of the table in its BAR. */
    public long tableOffset() {
        return tableOffset;
    }

    /** Bytes the table spans: 16 per vector. */
    public long tableBytes() {
        return 16L * vectors;
    }

    /** BAR holding the PBA. */
    public int pbaBar() {
        return pbaBar;
    }

    /** Offset of the PBA in its BAR. */
    public long pbaOffset() {
        return pbaOffset;
    }

    /** Bytes the PBA spans: one bit per vector, in whole qwords. */
    public long pbaBytes() {
        return pbaBytes(vectors);
    }

    /** True when the guest set the MSI-X enable bit. */
    public boolean isEnabled() {
        synchronized (lock) {
            return enabled;
        }
    }

    /** True when the guest set the function mask bit. */
    public boolean isFunctionMasked() {
        synchronized (lock) {
            return functionMasked;
        }
    }

    /** True when table entry {@code vector}'s own mask bit is set. */
    public boolean isVectorMasked(int vector) {
        synchronized (lock) {
            return (table[checkVector(vector) * 4 + 3] & PCI_MSIX_ENTRY_CTRL_MASKBIT) != 0;
        }
    }

    /** True when {@code vector}'s pending bit is set. */
    public boolean isPending(int vector) {
        synchronized (lock) {
            checkVector(vector);
            return (pba[vector >>> 6] >>> (vector & 63) & 1) != 0;
        }
    }

    /** The message table entry {@code vector} holds now. */
    public MsiMessage message(int vector) {
        synchronized (lock) {
            return entryMessage(checkVector(vector));
        }
    }

    /**
     * Device side: signal {@code vector}. Sends its message when MSI-X is enabled and the vector unmasked; sets its
     * pending bit when enabled but masked; does nothing when MSI-X is disabled or the vector is out of range.
     * Returns true when a message was sent.
     */
    public boolean trigger(int vector) {
        MsiMessage m;
        synchronized (lock) {
            if (!enabled || vector < 0 || vector >= vectors) {
                return false;
            }
            if (functionMasked || (table[vector * 4 + 3] & PCI_MSIX_ENTRY_CTRL_MASKBIT) != 0) {
                pba[vector >>> 6] |= 1L << (vector & 63);
                return false;
            }
            m = entryMessage(vector);
        }
        deliver(m);
        return true;
    }

    /**
     * The trap handler for the table, for offsets relative to the table's start, for an owner with nothing to apply
     * (an emulated function that signals through {@link #trigger}); an owner that routes vectors elsewhere traps the
     * table itself and calls {@link #readTable} and {@link #writeTable}.
     */
    public TrapHandler tableHandler() {
        return new TrapHandler() {
            @Override
            public long read(long off, int size) {
                return readTable(off, size);
            }

            @Override
            public void write(long off, int size, long value) {
                writeTable(off, size, value);
            }

            @Override
            public String toString() {
                return name + " MSI-X table";
            }
        };
    }

    /** The trap handler for the PBA, for offsets relative to the PBA's start. Writes are ignored. */
    public TrapHandler pbaHandler() {
        return new TrapHandler() {
            @Override
            public long read(long off, int size) {
                return readPba(off, size);
            }

            @Override
            public void write(long off, int size, long value) {
                // The PBA is read-only; the spec leaves writes undefined and hardware drops them.
            }

            @Override
            public String toString() {
                return name + " MSI-X PBA";
            }
        };
    }

    // ----------------------------------------------------------------------------------------------- table access

    private static boolean validAccess(long off, int size, long limit) {
        return (size == 4 || size == 8) && off >= 0 && (off & (size - 1)) == 0 && off + size <= limit;
    }

    /** A guest read of the table at {@code off} from its start; all-ones for an access the spec does not allow. */
    public long readTable(long off, int size) {
        if (!validAccess(off, size, tableBytes())) {
            return TrapHandler.allOnes(size);
        }
        int dw = (int) (off >>> 2);
        synchronized (lock) {
            long lo = table[dw] & 0xFFFF_FFFFL;
            return size == 4 ? lo : lo | ((table[dw + 1] & 0xFFFF_FFFFL) << 32);
        }
    }

    /**
     * A guest write to the table at {@code off} from its start (dropped when the spec does not allow the access).
     * Returns the entry whose message or mask changed while MSI-X was enabled, for the owner to route again, or null.
     * The common cases touch nothing but the table and allocate nothing: a write while MSI-X is disabled (the owner
     * reads every entry at {@link ConfigChange.MsixControlChanged} when the guest enables it, and nothing can be
     * pending while it is disabled), and a write that changes nothing (rewriting a masked entry with the same value).
     * An unmask of a pending vector sends its message before this returns.
     */
    public ConfigChange.MsixVectorChanged writeTable(long off, int size, long value) {
        if (!validAccess(off, size, tableBytes())) {
            return null;
        }
        int dw = (int) (off >>> 2);
        int vector = dw >>> 2;
        int base = vector * 4;
        MsiMessage toSend = null;
        synchronized (lock) {
            int old0 = table[dw];
            int old1 = size == 8 ? table[dw + 1] : 0;
            boolean maskedBefore = (table[base + 3] & PCI_MSIX_ENTRY_CTRL_MASKBIT) != 0;
            storeDword(dw, (int) value);
            if (size == 8) {
                storeDword(dw + 1, (int) (value >>> 32));
            }
            if (!enabled) {
                return null;
            }
            boolean messageChanged = ((dw & 3) != 3 && table[dw] != old0)
                    || (size == 8 && ((dw + 1) & 3) != 3 && table[dw + 1] != old1);
            boolean maskedAfter = (table[base + 3] & PCI_MSIX_ENTRY_CTRL_MASKBIT) != 0;
            boolean maskChanged = maskedAfter != maskedBefore;
            if (!messageChanged && !maskChanged) {
                return null;
            }
            if (maskChanged && !maskedAfter) {
                toSend = takePendingIfDeliverable(vector);
            }
        }
        if (toSend != null) {
            deliver(toSend);
        }
        return new ConfigChange.MsixVectorChanged(vector);
    }

    private void storeDword(int dw, int value) {
        // Vector control: only the mask bit is implemented; the rest is reserved and reads zero.
        table[dw] = (dw & 3) == 3 ? value & PCI_MSIX_ENTRY_CTRL_MASKBIT : value;
    }

    /** A guest read of the PBA at {@code off} from its start; all-ones for an access the spec does not allow. */
    public long readPba(long off, int size) {
        if (!validAccess(off, size, pbaBytes())) {
            return TrapHandler.allOnes(size);
        }
        synchronized (lock) {
            long q = pba[(int) (off >>> 3)];
            return size == 8 ? q : (q >>> ((off & 4) * 8)) & 0xFFFF_FFFFL;
        }
    }

    // -------------------------------------------------------------------------------------------- control register

    private List<ConfigChange> controlWritten() {
        int control = cs.getWord(offset + PCI_MSIX_FLAGS);
        boolean en = (control & PCI_MSIX_FLAGS_ENABLE) != 0;
        boolean fm = (control & PCI_MSIX_FLAGS_MASKALL) != 0;
        List<MsiMessage> toSend = new ArrayList<>();
        boolean changed;
        synchronized (lock) {
            changed = en != enabled || fm != functionMasked;
            enabled = en;
            functionMasked = fm;
            if (changed && en && !fm) {
                for (int v = 0; v < vectors; v++) {
                    MsiMessage m = takePendingIfDeliverable(v);
                    if (m != null) {
                        toSend.add(m);
                    }
                }
            }
        }
        toSend.forEach(this::deliver);
        return changed ? List.of(new ConfigChange.MsixControlChanged(en, fm)) : List.of();
    }

    /** With the lock held: if {@code vector} is pending and now deliverable, clears the bit and returns its message. */
    private MsiMessage takePendingIfDeliverable(int vector) {
        long bit = 1L << (vector & 63);
        if ((pba[vector >>> 6] & bit) == 0 || !enabled || functionMasked
                || (table[vector * 4 + 3] & PCI_MSIX_ENTRY_CTRL_MASKBIT) != 0) {
            return null;
        }
        pba[vector >>> 6] &= ~bit;
        return entryMessage(vector);
    }

    private MsiMessage entryMessage(int vector) {
        int base = vector * 4;
        long address = (table[base] & 0xFFFF_FFFFL) | ((table[base + 1] & 0xFFFF_FFFFL) << 32);
        return new MsiMessage(address, table[base + 2]);
    }

    private int checkVector(int vector) {
        if (vector < 0 || vector >= vectors) {
            throw new IndexOutOfBoundsException(name + ": MSI-X vector " + vector + " of " + vectors);
        }
        return vector;
    }

    private void deliver(MsiMessage message) {
        try {
            sink.accept(message);
        } catch (RuntimeException e) {
            LOG.warn("{}: delivering MSI-X {} failed", name, message, e);
        }
    }
}
