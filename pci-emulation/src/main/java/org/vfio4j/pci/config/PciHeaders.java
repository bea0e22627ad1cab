package org.vfio4j.pci.config;

import static org.vfio4j.pci.config.PciRegisters.*;

/**
 * Lays out the type 0 (endpoint) and type 1 (bridge) headers in a {@link ConfigSpace} with the register classes the
 * PCI Local Bus spec (3.0, ch. 6) and PCI Express base spec (ch. 7.5) give them.
 *
 * <p>Base address registers and the expansion ROM BAR are left read-only zero (an unimplemented BAR); a
 * {@link org.vfio4j.pci.bar.PciBars} installs the ones the device has. The capabilities pointer is left zero until a
 * capability is added.
 */
public final class PciHeaders {
    private PciHeaders() {
    }

    /** Command bits a guest may set: decode enables, bus master, parity/SERR# response, INTx disable. */
    public static final int COMMAND_WRITABLE = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER
            | PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE;
    /** Bridge control bits a guest may set. */
    public static final int BRIDGE_CONTROL_WRITABLE = PCI_BRIDGE_CTL_PARITY | PCI_BRIDGE_CTL_SERR
            | PCI_BRIDGE_CTL_ISA | PCI_BRIDGE_CTL_VGA | 0x10 | PCI_BRIDGE_CTL_MASTER_ABORT | PCI_BRIDGE_CTL_BUS_RESET;

    /**
     * A new space holding a type 0 header. {@code interruptPin} is 0 (no INTx) or 1..4 (INTA#..INTD#). On a
     * PCI Express space the latency timer is hardwired to zero, as PCIe requires.
     */
    public static ConfigSpace type0(String name, ConfigSpaceSize size, PciIdentity id, int interruptPin) {
        ConfigSpace cs = new ConfigSpace(name, size);
        common(cs, id, PCI_HEADER_TYPE_NORMAL, interruptPin, size == ConfigSpaceSize.EXTENDED);
        cs.setWord(PCI_SUBSYSTEM_VENDOR_ID, id.subsystemVendorId());
        cs.setWord(PCI_SUBSYSTEM_ID, id.subsystemId());
        return cs;
    }

    /** A new space holding a type 1 (PCI-to-PCI bridge) header; subsystem ids of {@code id} are not used. */
    public static ConfigSpace type1(String name, ConfigSpaceSize size, PciIdentity id, int interruptPin) {
        ConfigSpace cs = new ConfigSpace(name, size);
        boolean pcie = size == ConfigSpaceSize.EXTENDED;
        common(cs, id, PCI_HEADER_TYPE_BRIDGE, interruptPin, pcie);
        cs.setWritable(PCI_PRIMARY_BUS, 1, 0xFF);
        cs.setWritable(PCI_SECONDARY_BUS, 1, 0xFF);
        cs.setWritable(PCI_SUBORDINATE_BUS, 1, 0xFF);
        cs.setWritable(PCI_SEC_LATENCY_TIMER, 1, pcie ? 0 : 0xFF);
        // I/O base/limit: bits 7:4 are address bits 15:12; the low nibble says 32-bit I/O addressing (read-only 1).
        cs.setByte(PCI_IO_BASE, 0x01);
        cs.setByte(PCI_IO_LIMIT, 0x01);
        cs.setWritable(PCI_IO_BASE, 1, 0xF0);
        cs.setWritable(PCI_IO_LIMIT, 1, 0xF0);
        cs.setWritable(PCI_IO_BASE_UPPER16, 2, 0xFFFF);
        cs.setWritable(PCI_IO_LIMIT_UPPER16, 2, 0xFFFF);
        cs.setClearOnWrite(PCI_SEC_STATUS, 2, STATUS_RW1C_BITS);
        // Memory base/limit: bits 15:4 are address bits 31:20; the low nibble is read-only zero.
        cs.setWritable(PCI_MEMORY_BASE, 2, 0xFFF0);
        cs.setWritable(PCI_MEMORY_LIMIT, 2, 0xFFF0);
        // Prefetchable window: low nibble read-only 1 = 64-bit capable, with the upper 32 bits writable.
        cs.setWord(PCI_PREF_MEMORY_BASE, 0x0001);
        cs.setWord(PCI_PREF_MEMORY_LIMIT, 0x0001);
        cs.setWritable(PCI_PREF_MEMORY_BASE, 2, 0xFFF0);
        cs.setWritable(PCI_PREF_MEMORY_LIMIT, 2, 0xFFF0);
        cs.setWritable(PCI_PREF_BASE_UPPER32, 4, 0xFFFF_FFFFL);
        cs.setWritable(PCI_PREF_LIMIT_UPPER32, 4, 0xFFFF_FFFFL);
        cs.setWritable(PCI_BRIDGE_CONTROL, 2, BRIDGE_CONTROL_WRITABLE);
        return cs;
    }

    private static void common(ConfigSpace cs, PciIdentity id, int headerType, int interruptPin, boolean pcie) {
        if (interruptPin < 0 || interruptPin > 4) {
            throw new IllegalArgumentException("interrupt pin is 0 (none) or 1..4 (INTA..INTD), not " + interruptPin);
        }
        cs.setWord(PCI_VENDOR_ID, id.vendorId());
        cs.setWord(PCI_DEVICE_ID, id.deviceId());
        cs.setDword(PCI_CLASS_REVISION, (id.classCode() << 8) | id.revision());
        cs.setByte(PCI_HEADER_TYPE, headerType);
        cs.setWritable(PCI_COMMAND, 2, COMMAND_WRITABLE);
        cs.setClearOnWrite(PCI_STATUS, 2, STATUS_RW1C_BITS);
        cs.setWritable(PCI_CACHE_LINE_SIZE, 1, 0xFF);
        cs.setWritable(PCI_LATENCY_TIMER, 1, pcie ? 0 : 0xFF);
        cs.setWritable(PCI_INTERRUPT_LINE, 1, 0xFF);
        cs.setByte(PCI_INTERRUPT_PIN, interruptPin);
    }

    /** The header type (0 or 1) without the multi-function bit. */
    public static int headerType(ConfigSpace cs) {
        return cs.getByte(PCI_HEADER_TYPE) & 0x7F;
    }

    /** Sets or clears the multi-function bit of the header type (the bus does this for function 0 of a slot). */
    public static void setMultiFunction(ConfigSpace cs, boolean multiFunction) {
        if (multiFunction) {
            cs.setBits(PCI_HEADER_TYPE, 1, PCI_HEADER_TYPE_MFD);
        } else {
            cs.clearBits(PCI_HEADER_TYPE, 1, PCI_HEADER_TYPE_MFD);
        }
    }

    /** Device side: sets the INTx status bit (asserting) or clears it, as the function's interrupt logic does. */
    public static void setInterruptStatus(ConfigSpace cs, boolean asserted) {
        if (asserted) {
            cs.setBits(PCI_STATUS, 2, PCI_STATUS_INTERRUPT);
        } else {
            cs.clearBits(PCI_STATUS, 2, PCI_STATUS_INTERRUPT);
        }
    }

    /** Device side: records an error in the status register (one of the RW1C bits); the guest clears it. */
    public static void signalStatus(ConfigSpace cs, int rw1cBit) {
        if ((rw1cBit & ~STATUS_RW1C_BITS) != 0) {
            throw new IllegalArgumentException("0x" + Integer.toHexString(rw1cBit) + " is not an RW1C status bit");
        }
        cs.setBits(PCI_STATUS, 2, rw1cBit);
    }
}
