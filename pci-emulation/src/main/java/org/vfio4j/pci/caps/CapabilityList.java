package org.vfio4j.pci.caps;

import static org.vfio4j.pci.config.PciRegisters.*;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Optional;
import org.vfio4j.pci.config.ConfigSpace;

/**
 * The standard and extended capability chains of a {@link ConfigSpace}, as an editable model.
 *
 * <p>Constructing one parses whatever chains the image already holds, walking them the way Linux does (status bit
 * {@code CAP_LIST}, pointers masked to dword alignment, a bounded number of hops, stopping at a loop), so a chain
 * copied from a physical function is the starting point. A parsed capability spans what the spec gives its id
 * (for the ids whose size is known) but never past the next capability; otherwise up to the next one (as QEMU's
 * vfio-pci sizes them). Then:
 * <ul>
 *   <li>{@link #add} / {@link #addExtended} place an emulated capability in free space and link it at the tail;</li>
 *   <li>{@link #hide} / {@link #hideExtended} unlink a capability so a guest walking the list never finds it, and
 *       zero its bytes;</li>
 *   <li>{@link #replace} / {@link #replaceExtended} put an emulated capability where a found one was (in place when
 *       it fits, otherwise hide and add).</li>
 * </ul>
 * Every byte these edits write (headers, link pointers, the capabilities pointer, the status {@code CAP_LIST} bit,
 * hidden bytes, emulated capability bodies) is marked emulated in the config space, so a passthrough backing never
 * shows the guest the physical value under it. Edits are configuration-time operations and throw on misuse (no room,
 * unknown entry); they are not guest accesses.
 */
public final class CapabilityList {
    private static final int STD_START = PCI_STD_HEADER_SIZEOF;
    private static final int STD_END = PCI_CFG_SPACE_SIZE;
    private static final int EXT_START = PCI_CFG_SPACE_SIZE;
    /** Linux's PCI_FIND_CAP_TTL: at most 48 hops through the standard list. */
    private static final int STD_TTL = 48;
    /** At most one capability per dword of extended space. */
    private static final int EXT_TTL = (PCI_CFG_SPACE_EXP_SIZE - PCI_CFG_SPACE_SIZE) / 8;

    private final ConfigSpace cs;
    private final List<CapabilityEntry.Standard> standard = new ArrayList<>();
    private final List<CapabilityEntry.Extended> extended = new ArrayList<>();
    /** 0x100 holds a null header (id 0) that only links to the rest of the extended chain. */
    private boolean extendedNullHead;

    /** Parses the chains already in {@code cs}'s image. */
    public CapabilityList(ConfigSpace cs) {
        this.cs = cs;
        parseStandard();
        parseExtended();
    }

    /** The standard capabilities in chain order. */
    public List<CapabilityEntry.Standard> standard() {
        return List.copyOf(standard);
    }

    /** The extended capabilities in chain order. */
    public List<CapabilityEntry.Extended> extended() {
        return List.copyOf(extended);
    }

    /** The first standard capability with this id. */
    public Optional<CapabilityEntry.Standard> find(int id) {
        return standard.stream().filter(e -> e.id() == id).findFirst();
    }

    /** The first extended capability with this id. */
    public Optional<CapabilityEntry.Extended> findExtended(int id) {
        return extended.stream().filter(e -> e.id() == id).findFirst();
    }

    // ------------------------------------------------------------------------------------------------ standard list

    /** Places {@code cap} in the first free dword-aligned space of 0x40..0xFF, links it last, returns its offset. */
    public int add(Capability cap) {
        int len = checkLength(cap.length(), 2);
        int offset = findFree(STD_START, STD_END, len, usedStandard());
        if (offset < 0) {
            throw new IllegalStateException(cs.name() + ": no room for a " + len + "-byte capability 0x"
                    + Integer.toHexString(cap.id()) + " in 0x40..0xFF (have " + standard + ")");
        }
        placeStandard(cap, offset, 0);
        if (standard.isEmpty()) {
            linkStandardPointer(PCI_CAPABILITY_LIST, offset);
            cs.setBits(PCI_STATUS, 2, PCI_STATUS_CAP_LIST);
            cs.addEmulated(PCI_STATUS, 2, PCI_STATUS_CAP_LIST);
        } else {
            linkStandardPointer(standard.get(standard.size() - 1).offset() + PCI_CAP_LIST_NEXT, offset);
        }
        standard.add(new CapabilityEntry.Standard(cap.id(), offset, len));
        return offset;
    }

    /** Unlinks {@code entry} from the standard list and zeroes its bytes. */
    public void hide(CapabilityEntry.Standard entry) {
        int i = indexOf(standard, entry);
        int next = i + 1 < standard.size() ? standard.get(i + 1).offset() : 0;
        int pointer = i == 0 ? PCI_CAPABILITY_LIST : standard.get(i - 1).offset() + PCI_CAP_LIST_NEXT;
        linkStandardPointer(pointer, next);
        standard.remove(i);
        if (standard.isEmpty()) {
            cs.clearBits(PCI_STATUS, 2, PCI_STATUS_CAP_LIST);
            cs.addEmulated(PCI_STATUS, 2, PCI_STATUS_CAP_LIST);
        }
        blank(entry.offset(), entry.length());
    }

    /**
     * Puts {@code cap} where {@code entry} is, keeping its place in the chain when {@code cap} fits in the bytes
     * {@code entry} spans; otherwise hides {@code entry} and adds {@code cap}. Returns the new capability's offset.
     */
    public int replace(CapabilityEntry.Standard entry, Capability cap) {
        int i = indexOf(standard, entry);
        int len = checkLength(cap.length(), 2);
        if (len > entry.length()) {
            hide(entry);
            return add(cap);
        }
        int next = cs.getByte(entry.offset() + PCI_CAP_LIST_NEXT);
        blank(entry.offset(), entry.length());
        placeStandard(cap, entry.offset(), next);
        standard.set(i, new CapabilityEntry.Standard(cap.id(), entry.offset(), len));
        return entry.offset();
    }

    // ------------------------------------------------------------------------------------------------ extended list

    /** Places {@code cap} in free extended space (0x100 when the list is empty), links it last, returns its offset. */
    public int addExtended(ExtendedCapability cap) {
        requireExtendedSpace();
        int len = checkLength(cap.length(), 4);
        if ((len & 3) != 0) {
            throw new IllegalArgumentException("extended capability length must be a multiple of 4, not " + len);
        }
        int offset;
        if (extended.isEmpty() && !extendedNullHead) {
            offset = EXT_START;
            if (len > PCI_CFG_SPACE_EXP_SIZE - EXT_START) {
                throw new IllegalStateException(cs.name() + ": extended capability too large: " + len);
            }
        } else {
            offset = findFree(EXT_START, PCI_CFG_SPACE_EXP_SIZE, len, usedExtended());
            if (offset < 0) {
                throw new IllegalStateException(cs.name() + ": no room for a " + len
                        + "-byte extended capability 0x" + Integer.toHexString(cap.id()));
            }
            int tail = extended.isEmpty() ? EXT_START : extended.get(extended.size() - 1).offset();
            relinkExtended(tail, offset);
        }
        placeExtended(cap, offset, 0);
        extended.add(new CapabilityEntry.Extended(cap.id(), cap.version(), offset, len));
        return offset;
    }

    /**
     * Unlinks {@code entry} from the extended list and zeroes its bytes. The list's head cannot move from 0x100, so
     * hiding the capability there leaves a null header (id 0, version 0) at 0x100 that links to the rest, or an
     * all-zero header when nothing follows: the same thing Linux and QEMU treat as "no capability here".
     */
    public void hideExtended(CapabilityEntry.Extended entry) {
        int i = indexOf(extended, entry);
        int next = i + 1 < extended.size() ? extended.get(i + 1).offset() : 0;
        extended.remove(i);
        if (entry.offset() == EXT_START) {
            blank(entry.offset(), entry.length());
            cs.setDword(EXT_START, extCapHeader(0, 0, next));
            extendedNullHead = next != 0;
        } else {
            int prev = i == 0 ? EXT_START : extended.get(i - 1).offset();
            relinkExtended(prev, next);
            blank(entry.offset(), entry.length());
            if (extended.isEmpty() && extendedNullHead) {
                // Only the null head is left: an all-zero header says "no extended capabilities".
                cs.setDword(EXT_START, 0);
                extendedNullHead = false;
            }
        }
    }

    /**
     * Puts {@code cap} where {@code entry} is, in place when it fits, otherwise hides {@code entry} and adds
     * {@code cap}. Returns the new capability's offset.
     */
    public int replaceExtended(CapabilityEntry.Extended entry, ExtendedCapability cap) {
        int i = indexOf(extended, entry);
        int len = checkLength(cap.length(), 4);
        if (len > entry.length() || (len & 3) != 0) {
            hideExtended(entry);
            return addExtended(cap);
        }
        int next = extCapNext(cs.getDword(entry.offset()));
        blank(entry.offset(), entry.length());
        placeExtended(cap, entry.offset(), next);
        extended.set(i, new CapabilityEntry.Extended(cap.id(), cap.version(), entry.offset(), len));
        return entry.offset();
    }

    // ----------------------------------------------------------------------------------------------------- parsing

    private void parseStandard() {
        if ((cs.getWord(PCI_STATUS) & PCI_STATUS_CAP_LIST) == 0) {
            return;
        }
        List<Integer> offsets = new ArrayList<>();
        List<Integer> ids = new ArrayList<>();
        BitSet seen = new BitSet(STD_END);
        int pos = cs.getByte(PCI_CAPABILITY_LIST);
        for (int ttl = STD_TTL; ttl > 0; ttl--) {
            if (pos < STD_START) {
                break;
            }
            pos &= ~3;
            if (seen.get(pos)) {
                break;
            }
            seen.set(pos);
            int id = cs.getByte(pos);
            if (id == 0xFF) {
                break;
            }
            offsets.add(pos);
            ids.add(id);
            pos = cs.getByte(pos + PCI_CAP_LIST_NEXT);
        }
        for (int k = 0; k < offsets.size(); k++) {
            int off = offsets.get(k);
            int gap = nextAbove(offsets, off, STD_END) - off;
            int known = knownStandardLength(ids.get(k), off);
            int len = known > 0 ? Math.min(known, gap) : gap;
            standard.add(new CapabilityEntry.Standard(ids.get(k), off, len));
        }
    }

    private void parseExtended() {
        if (cs.length() < PCI_CFG_SPACE_EXP_SIZE) {
            return;
        }
        int header = cs.getDword(EXT_START);
        if (header == 0 || header == -1) {
            return;
        }
        List<Integer> offsets = new ArrayList<>();
        List<Integer> headers = new ArrayList<>();
        BitSet seen = new BitSet(PCI_CFG_SPACE_EXP_SIZE);
        int pos = EXT_START;
        for (int ttl = EXT_TTL; ttl > 0; ttl--) {
            if (seen.get(pos)) {
                break;
            }
            seen.set(pos);
            if (pos == EXT_START && extCapId(header) == 0) {
                extendedNullHead = true;
            } else {
                offsets.add(pos);
                headers.add(header);
            }
            pos = extCapNext(header);
            if (pos < EXT_START) {
                break;
            }
            header = cs.getDword(pos);
        }
        List<Integer> all = new ArrayList<>(offsets);
        if (extendedNullHead) {
            all.add(EXT_START);
        }
        for (int k = 0; k < offsets.size(); k++) {
            int off = offsets.get(k);
            int h = headers.get(k);
            int gap = nextAbove(all, off, PCI_CFG_SPACE_EXP_SIZE) - off;
            int known = knownExtendedLength(extCapId(h), off);
            int len = known > 0 ? Math.min(known, gap) : gap;
            extended.add(new CapabilityEntry.Extended(extCapId(h), extCapVersion(h), off, len));
        }
    }

    /** The size the spec gives a standard capability, or 0 when it cannot be told from its registers. */
    private int knownStandardLength(int id, int off) {
        switch (id) {
            case PCI_CAP_ID_PM:
            case PCI_CAP_ID_SSVID:
                return 8;
            case PCI_CAP_ID_MSIX:
                return 12;
            case PCI_CAP_ID_MSI: {
                int flags = off + 2 < STD_END ? cs.getByte(off + 2) | (off + 3 < STD_END ? cs.getByte(off + 3) << 8 : 0)
                        : 0;
                int len = 10;
                if ((flags & PCI_MSI_FLAGS_64BIT) != 0) {
                    len += 4;
                }
                if ((flags & PCI_MSI_FLAGS_MASKBIT) != 0) {
                    len += 10;
                }
                return len;
            }
            case PCI_CAP_ID_VNDR: {
                int len = off + 2 < STD_END ? cs.getByte(off + 2) : 0;
                return len >= 3 ? len : 0;
            }
            case PCI_CAP_ID_EXP: {
                int flags = off + 2 < STD_END ? cs.getByte(off + 2) : 0;
                int type = (flags & PCI_EXP_FLAGS_TYPE) >> 4;
                if ((flags & PCI_EXP_FLAGS_VERS) >= 2) {
                    return PCI_EXP_VER2_SIZEOF;
                }
                return type == PCI_EXP_TYPE_ROOT_PORT || type == 0xA ? 0x24 : 0x14;
            }
            default:
                return 0;
        }
    }

    /** The size the spec gives an extended capability, or 0 when it cannot be told from its registers. */
    private int knownExtendedLength(int id, int off) {
        switch (id) {
            case PCI_EXT_CAP_ID_DSN:
                return 12;
            case PCI_EXT_CAP_ID_ARI:
                return 8;
            case PCI_EXT_CAP_ID_ERR:
                return 0x48; // through the TLP prefix log
            case PCI_EXT_CAP_ID_SRIOV:
                return 0x40;
            case PCI_EXT_CAP_ID_VNDR: {
                int len = off + 8 <= PCI_CFG_SPACE_EXP_SIZE ? cs.getDword(off + 4) >>> 20 : 0;
                return len >= 8 ? (len + 3) & ~3 : 0;
            }
            default:
                return 0;
        }
    }

    private static int nextAbove(List<Integer> offsets, int off, int end) {
        int best = end;
        for (int o : offsets) {
            if (o > off && o < best) {
                best = o;
            }
        }
        return best;
    }

    // ----------------------------------------------------------------------------------------------------- editing

    private void placeStandard(Capability cap, int offset, int next) {
        cs.clear(offset, cap.length());
        cs.setEmulatedRange(offset, cap.length(), true);
        cs.setByte(offset + PCI_CAP_LIST_ID, cap.id());
        cs.setByte(offset + PCI_CAP_LIST_NEXT, next);
        cap.install(cs, offset);
    }

    private void placeExtended(ExtendedCapability cap, int offset, int next) {
        cs.clear(offset, cap.length());
        cs.setEmulatedRange(offset, cap.length(), true);
        cs.setDword(offset, extCapHeader(cap.id(), cap.version(), next));
        cap.install(cs, offset);
    }

    private void linkStandardPointer(int pointerOffset, int target) {
        cs.setByte(pointerOffset, target);
        cs.setEmulatedRange(pointerOffset, 1, true);
    }

    private void relinkExtended(int headerOffset, int next) {
        int h = cs.getDword(headerOffset);
        cs.setDword(headerOffset, extCapHeader(extCapId(h), extCapVersion(h), next));
        cs.setEmulatedRange(headerOffset, 4, true);
    }

    /** Zero, read-only and emulated: nothing of a hidden capability shows, from the image or the hardware. */
    private void blank(int offset, int length) {
        cs.clear(offset, length);
        cs.setEmulatedRange(offset, length, true);
    }

    private BitSet usedStandard() {
        BitSet used = new BitSet(STD_END);
        used.set(0, STD_START);
        standard.forEach(e -> used.set(e.offset(), e.offset() + e.length()));
        return used;
    }

    private BitSet usedExtended() {
        BitSet used = new BitSet(PCI_CFG_SPACE_EXP_SIZE);
        used.set(0, EXT_START);
        if (extendedNullHead) {
            used.set(EXT_START, EXT_START + 4);
        }
        extended.forEach(e -> used.set(e.offset(), e.offset() + e.length()));
        return used;
    }

    private static int findFree(int start, int end, int len, BitSet used) {
        for (int off = start; off + len <= end; off += 4) {
            int firstUsed = used.nextSetBit(off);
            if (firstUsed < 0 || firstUsed >= off + len) {
                return off;
            }
        }
        return -1;
    }

    private void requireExtendedSpace() {
        if (cs.length() < PCI_CFG_SPACE_EXP_SIZE) {
            throw new IllegalStateException(cs.name() + ": a 256-byte config space has no extended capabilities");
        }
    }

    private static int checkLength(int len, int min) {
        if (len < min) {
            throw new IllegalArgumentException("capability length " + len + " is shorter than its header");
        }
        return len;
    }

    private <T extends CapabilityEntry> int indexOf(List<T> list, T entry) {
        int i = list.indexOf(entry);
        if (i < 0) {
            throw new IllegalArgumentException(cs.name() + ": " + entry + " is not in the list " + list);
        }
        return i;
    }
}
