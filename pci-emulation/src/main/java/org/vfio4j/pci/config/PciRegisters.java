package org.vfio4j.pci.config;

/**
 * Register offsets, bit values and capability ids of PCI configuration space, named as in Linux's
 * {@code <linux/pci_regs.h>} (a test compares every value with that header).
 */
public final class PciRegisters {
    private PciRegisters() {
    }

    // Common header (types 0 and 1)
    /** Vendor ID, 16 bits, read-only. */
    public static final int PCI_VENDOR_ID = 0x00;
    /** Device ID, 16 bits, read-only. */
    public static final int PCI_DEVICE_ID = 0x02;
    /** Command register, 16 bits. */
    public static final int PCI_COMMAND = 0x04;
    /** Status register, 16 bits; error bits are RW1C. */
    public static final int PCI_STATUS = 0x06;
    /** Revision ID (low byte) and class code (upper 24 bits) dword. */
    public static final int PCI_CLASS_REVISION = 0x08;
    /** Revision ID byte. */
    public static final int PCI_REVISION_ID = 0x08;
    /** Programming interface byte. */
    public static final int PCI_CLASS_PROG = 0x09;
    /** Sub-class (low byte) and base class (high byte) word. */
    public static final int PCI_CLASS_DEVICE = 0x0a;
    /** Cache line size byte. */
    public static final int PCI_CACHE_LINE_SIZE = 0x0c;
    /** Latency timer byte. */
    public static final int PCI_LATENCY_TIMER = 0x0d;
    /** Header type byte; bit 7 is the multi-function flag. */
    public static final int PCI_HEADER_TYPE = 0x0e;
    /** BIST byte. */
    public static final int PCI_BIST = 0x0f;
    /** First base address register. */
    public static final int PCI_BASE_ADDRESS_0 = 0x10;
    /** Capabilities pointer byte. */
    public static final int PCI_CAPABILITY_LIST = 0x34;
    /** Interrupt line byte (read-write scratch for software). */
    public static final int PCI_INTERRUPT_LINE = 0x3c;
    /** Interrupt pin byte (read-only; 0 none, 1..4 INTA..INTD). */
    public static final int PCI_INTERRUPT_PIN = 0x3d;

    // Type 0
    /** Type 0: CardBus CIS pointer. */
    public static final int PCI_CARDBUS_CIS = 0x28;
    /** Type 0: subsystem vendor ID. */
    public static final int PCI_SUBSYSTEM_VENDOR_ID = 0x2c;
    /** Type 0: subsystem ID. */
    public static final int PCI_SUBSYSTEM_ID = 0x2e;
    /** Type 0: expansion ROM base address. */
    public static final int PCI_ROM_ADDRESS = 0x30;
    /** Type 0: Min_Gnt byte. */
    public static final int PCI_MIN_GNT = 0x3e;
    /** Type 0: Max_Lat byte. */
    public static final int PCI_MAX_LAT = 0x3f;

    // Type 1
    /** Type 1: primary bus number. */
    public static final int PCI_PRIMARY_BUS = 0x18;
    /** Type 1: secondary bus number. */
    public static final int PCI_SECONDARY_BUS = 0x19;
    /** Type 1: subordinate bus number. */
    public static final int PCI_SUBORDINATE_BUS = 0x1a;
    /** Type 1: secondary latency timer. */
    public static final int PCI_SEC_LATENCY_TIMER = 0x1b;
    /** Type 1: I/O base byte. */
    public static final int PCI_IO_BASE = 0x1c;
    /** Type 1: I/O limit byte. */
    public static final int PCI_IO_LIMIT = 0x1d;
    /** Type 1: secondary status (RW1C error bits). */
    public static final int PCI_SEC_STATUS = 0x1e;
    /** Type 1: memory base word. */
    public static final int PCI_MEMORY_BASE = 0x20;
    /** Type 1: memory limit word. */
    public static final int PCI_MEMORY_LIMIT = 0x22;
    /** Type 1: prefetchable memory base word. */
    public static final int PCI_PREF_MEMORY_BASE = 0x24;
    /** Type 1: prefetchable memory limit word. */
    public static final int PCI_PREF_MEMORY_LIMIT = 0x26;
    /** Type 1: upper 32 bits of the prefetchable base. */
    public static final int PCI_PREF_BASE_UPPER32 = 0x28;
    /** Type 1: upper 32 bits of the prefetchable limit. */
    public static final int PCI_PREF_LIMIT_UPPER32 = 0x2c;
    /** Type 1: upper 16 bits of the I/O base. */
    public static final int PCI_IO_BASE_UPPER16 = 0x30;
    /** Type 1: upper 16 bits of the I/O limit. */
    public static final int PCI_IO_LIMIT_UPPER16 = 0x32;
    /** Type 1: expansion ROM base address. */
    public static final int PCI_ROM_ADDRESS1 = 0x38;
    /** Type 1: bridge control word. */
    public static final int PCI_BRIDGE_CONTROL = 0x3e;

    // Header types
    /** Header type 0: endpoint. */
    public static final int PCI_HEADER_TYPE_NORMAL = 0;
    /** Header type 1: PCI-to-PCI bridge. */
    public static final int PCI_HEADER_TYPE_BRIDGE = 1;
    /** Multi-function bit of the header type byte. */
    public static final int PCI_HEADER_TYPE_MFD = 0x80;

    // Command bits
    /** Command: respond to I/O space accesses. */
    public static final int PCI_COMMAND_IO = 0x1;
    /** Command: respond to memory space accesses. */
    public static final int PCI_COMMAND_MEMORY = 0x2;
    /** Command: bus mastering (DMA). */
    public static final int PCI_COMMAND_MASTER = 0x4;
    /** Command: special cycles. */
    public static final int PCI_COMMAND_SPECIAL = 0x8;
    /** Command: memory write and invalidate. */
    public static final int PCI_COMMAND_INVALIDATE = 0x10;
    /** Command: VGA palette snooping. */
    public static final int PCI_COMMAND_VGA_PALETTE = 0x20;
    /** Command: parity error response. */
    public static final int PCI_COMMAND_PARITY = 0x40;
    /** Command: address/data stepping (hardwired zero since PCI 3.0). */
    public static final int PCI_COMMAND_WAIT = 0x80;
    /** Command: SERR# enable. */
    public static final int PCI_COMMAND_SERR = 0x100;
    /** Command: fast back-to-back enable. */
    public static final int PCI_COMMAND_FAST_BACK = 0x200;
    /** Command: INTx emulation disable. */
    public static final int PCI_COMMAND_INTX_DISABLE = 0x400;

    // Status bits
    /** Status: INTx asserted (read-only). */
    public static final int PCI_STATUS_INTERRUPT = 0x08;
    /** Status: capability list present (read-only). */
    public static final int PCI_STATUS_CAP_LIST = 0x10;
    /** Status: 66 MHz capable (read-only). */
    public static final int PCI_STATUS_66MHZ = 0x20;
    /** Status: fast back-to-back capable (read-only). */
    public static final int PCI_STATUS_FAST_BACK = 0x80;
    /** Status: master data parity error (RW1C). */
    public static final int PCI_STATUS_PARITY = 0x100;
    /** Status: DEVSEL timing mask (read-only). */
    public static final int PCI_STATUS_DEVSEL_MASK = 0x600;
    /** Status: signaled target abort (RW1C). */
    public static final int PCI_STATUS_SIG_TARGET_ABORT = 0x800;
    /** Status: received target abort (RW1C). */
    public static final int PCI_STATUS_REC_TARGET_ABORT = 0x1000;
    /** Status: received master abort (RW1C). */
    public static final int PCI_STATUS_REC_MASTER_ABORT = 0x2000;
    /** Status: signaled system error (RW1C). */
    public static final int PCI_STATUS_SIG_SYSTEM_ERROR = 0x4000;
    /** Status: detected parity error (RW1C). */
    public static final int PCI_STATUS_DETECTED_PARITY = 0x8000;
    /** All RW1C bits of the status and secondary status registers. */
    public static final int STATUS_RW1C_BITS = PCI_STATUS_PARITY | PCI_STATUS_SIG_TARGET_ABORT
            | PCI_STATUS_REC_TARGET_ABORT | PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_SIG_SYSTEM_ERROR
            | PCI_STATUS_DETECTED_PARITY;

    // BAR bits
    /** BAR bit 0: I/O space indicator. */
    public static final int PCI_BASE_ADDRESS_SPACE_IO = 0x01;
    /** BAR memory type field mask (bits 2:1). */
    public static final int PCI_BASE_ADDRESS_MEM_TYPE_MASK = 0x06;
    /** BAR memory type: 32-bit. */
    public static final int PCI_BASE_ADDRESS_MEM_TYPE_32 = 0x00;
    /** BAR memory type: 64-bit. */
    public static final int PCI_BASE_ADDRESS_MEM_TYPE_64 = 0x04;
    /** BAR memory: prefetchable. */
    public static final int PCI_BASE_ADDRESS_MEM_PREFETCH = 0x08;
    /** ROM BAR: decode enable. */
    public static final int PCI_ROM_ADDRESS_ENABLE = 0x01;

    // Bridge control bits
    /** Bridge control: parity error response. */
    public static final int PCI_BRIDGE_CTL_PARITY = 0x01;
    /** Bridge control: SERR# forwarding. */
    public static final int PCI_BRIDGE_CTL_SERR = 0x02;
    /** Bridge control: ISA enable. */
    public static final int PCI_BRIDGE_CTL_ISA = 0x04;
    /** Bridge control: VGA enable. */
    public static final int PCI_BRIDGE_CTL_VGA = 0x08;
    /** Bridge control: master abort mode. */
    public static final int PCI_BRIDGE_CTL_MASTER_ABORT = 0x20;
    /** Bridge control: secondary bus reset. */
    public static final int PCI_BRIDGE_CTL_BUS_RESET = 0x40;

    // Capability list
    /** Capability header: id byte. */
    public static final int PCI_CAP_LIST_ID = 0;
    /** Capability header: next pointer byte. */
    public static final int PCI_CAP_LIST_NEXT = 1;
    /** Power management capability id. */
    public static final int PCI_CAP_ID_PM = 0x01;
    /** MSI capability id. */
    public static final int PCI_CAP_ID_MSI = 0x05;
    /** Vendor-specific capability id. */
    public static final int PCI_CAP_ID_VNDR = 0x09;
    /** Bridge subsystem vendor/device id capability. */
    public static final int PCI_CAP_ID_SSVID = 0x0d;
    /** PCI Express capability id. */
    public static final int PCI_CAP_ID_EXP = 0x10;
    /** MSI-X capability id. */
    public static final int PCI_CAP_ID_MSIX = 0x11;
    /** First offset after the standard header, where standard capabilities may start. */
    public static final int PCI_STD_HEADER_SIZEOF = 64;
    /** First extended capability offset. */
    public static final int PCI_CFG_SPACE_SIZE = 256;
    /** Size of a PCI Express configuration space. */
    public static final int PCI_CFG_SPACE_EXP_SIZE = 4096;

    // Extended capability ids
    /** Advanced error reporting. */
    public static final int PCI_EXT_CAP_ID_ERR = 0x01;
    /** Device serial number. */
    public static final int PCI_EXT_CAP_ID_DSN = 0x03;
    /** Vendor-specific extended capability. */
    public static final int PCI_EXT_CAP_ID_VNDR = 0x0b;
    /** Alternative routing-ID interpretation. */
    public static final int PCI_EXT_CAP_ID_ARI = 0x0e;
    /** Single root I/O virtualization. */
    public static final int PCI_EXT_CAP_ID_SRIOV = 0x10;
    /** Resizable BAR. */
    public static final int PCI_EXT_CAP_ID_REBAR = 0x15;

    // MSI
    /** MSI: message control word offset. */
    public static final int PCI_MSI_FLAGS = 0x02;
    /** MSI control: enable. */
    public static final int PCI_MSI_FLAGS_ENABLE = 0x0001;
    /** MSI control: multiple message capable (log2, bits 3:1). */
    public static final int PCI_MSI_FLAGS_QMASK = 0x000e;
    /** MSI control: multiple message enable (log2, bits 6:4). */
    public static final int PCI_MSI_FLAGS_QSIZE = 0x0070;
    /** MSI control: 64-bit address capable. */
    public static final int PCI_MSI_FLAGS_64BIT = 0x0080;
    /** MSI control: per-vector masking capable. */
    public static final int PCI_MSI_FLAGS_MASKBIT = 0x0100;
    /** MSI: message address (low 32 bits). */
    public static final int PCI_MSI_ADDRESS_LO = 0x04;
    /** MSI 64-bit: message address upper 32 bits. */
    public static final int PCI_MSI_ADDRESS_HI = 0x08;
    /** MSI 32-bit: message data. */
    public static final int PCI_MSI_DATA_32 = 0x08;
    /** MSI 32-bit: mask bits. */
    public static final int PCI_MSI_MASK_32 = 0x0c;
    /** MSI 32-bit: pending bits. */
    public static final int PCI_MSI_PENDING_32 = 0x10;
    /** MSI 64-bit: message data. */
    public static final int PCI_MSI_DATA_64 = 0x0c;
    /** MSI 64-bit: mask bits. */
    public static final int PCI_MSI_MASK_64 = 0x10;
    /** MSI 64-bit: pending bits. */
    public static final int PCI_MSI_PENDING_64 = 0x14;

    // MSI-X
    /** MSI-X: message control word offset. */
    public static final int PCI_MSIX_FLAGS = 0x02;
    /** MSI-X control: table size minus one (bits 10:0). */
    public static final int PCI_MSIX_FLAGS_QSIZE = 0x07ff;
    /** MSI-X control: function mask. */
    public static final int PCI_MSIX_FLAGS_MASKALL = 0x4000;
    /** MSI-X control: enable. */
    public static final int PCI_MSIX_FLAGS_ENABLE = 0x8000;
    /** MSI-X: table offset and BIR dword. */
    public static final int PCI_MSIX_TABLE = 0x04;
    /** MSI-X: PBA offset and BIR dword. */
    public static final int PCI_MSIX_PBA = 0x08;
    /** MSI-X: BAR indicator mask of the table/PBA dwords. */
    public static final int PCI_MSIX_TABLE_BIR = 0x7;
    /** MSI-X: size of one table entry in bytes. */
    public static final int PCI_MSIX_ENTRY_SIZE = 16;
    /** MSI-X entry: message address low. */
    public static final int PCI_MSIX_ENTRY_LOWER_ADDR = 0x0;
    /** MSI-X entry: message address high. */
    public static final int PCI_MSIX_ENTRY_UPPER_ADDR = 0x4;
    /** MSI-X entry: message data. */
    public static final int PCI_MSIX_ENTRY_DATA = 0x8;
    /** MSI-X entry: vector control. */
    public static final int PCI_MSIX_ENTRY_VECTOR_CTRL = 0xc;
    /** MSI-X vector control: mask bit. */
    public static final int PCI_MSIX_ENTRY_CTRL_MASKBIT = 0x1;

    // Power management
    /** PM: capabilities word (PMC). */
    public static final int PCI_PM_PMC = 0x02;
    /** PM: control/status word (PMCSR). */
    public static final int PCI_PM_CTRL = 0x04;
    /** PMCSR: power state field (bits 1:0). */
    public static final int PCI_PM_CTRL_STATE_MASK = 0x0003;
    /** PMCSR: no soft reset on D3hot to D0. */
    public static final int PCI_PM_CTRL_NO_SOFT_RESET = 0x0008;
    /** PMCSR: PME enable. */
    public static final int PCI_PM_CTRL_PME_ENABLE = 0x0100;
    /** PMCSR: PME status (RW1C). */
    public static final int PCI_PM_CTRL_PME_STATUS = 0x8000;
    /** Size of the PM capability. */
    public static final int PCI_PM_SIZEOF = 8;

    // PCI Express capability
    /** PCIe: capabilities register (version, device/port type). */
    public static final int PCI_EXP_FLAGS = 0x02;
    /** PCIe: device capabilities. */
    public static final int PCI_EXP_DEVCAP = 0x04;
    /** PCIe: device control. */
    public static final int PCI_EXP_DEVCTL = 0x08;
    /** PCIe: device status. */
    public static final int PCI_EXP_DEVSTA = 0x0a;
    /** PCIe: link capabilities. */
    public static final int PCI_EXP_LNKCAP = 0x0c;
    /** PCIe: link control. */
    public static final int PCI_EXP_LNKCTL = 0x10;
    /** PCIe: link status. */
    public static final int PCI_EXP_LNKSTA = 0x12;
    /** PCIe: device capabilities 2. */
    public static final int PCI_EXP_DEVCAP2 = 0x24;
    /** PCIe: device control 2. */
    public static final int PCI_EXP_DEVCTL2 = 0x28;
    /** PCIe: end of a version 2 endpoint's registers (through link status 2), as Linux defines it. */
    public static final int PCI_CAP_EXP_ENDPOINT_SIZEOF_V2 = 0x32;
    /** PCIe: the whole version 2 register block, through slot status 2 (0x3C bytes; QEMU's PCI_EXP_VER2_SIZEOF). */
    public static final int PCI_EXP_VER2_SIZEOF = 0x3c;
    /** PCIe flags: capability version mask. */
    public static final int PCI_EXP_FLAGS_VERS = 0x000f;
    /** PCIe flags: device/port type mask (bits 7:4). */
    public static final int PCI_EXP_FLAGS_TYPE = 0x00f0;
    /** PCIe port type: endpoint. */
    public static final int PCI_EXP_TYPE_ENDPOINT = 0x0;
    /** PCIe port type: root complex integrated endpoint. */
    public static final int PCI_EXP_TYPE_RC_END = 0x9;
    /** PCIe port type: root port. */
    public static final int PCI_EXP_TYPE_ROOT_PORT = 0x4;
    /** PCIe device control: function level reset (write 1 to initiate; reads 0). */
    public static final int PCI_EXP_DEVCTL_BCR_FLR = 0x8000;
    /** PCIe device capabilities: function level reset capable. */
    public static final int PCI_EXP_DEVCAP_FLR = 0x10000000;
    /** PCIe device status: the RW1C error bits (correctable, non-fatal, fatal, unsupported request). */
    public static final int PCI_EXP_DEVSTA_RW1C = 0x000f;

    // Extended capability header
    /** Extended capability header: id in bits 15:0. */
    public static int extCapId(int header) {
        return header & 0xffff;
    }

    /** Extended capability header: version in bits 19:16. */
    public static int extCapVersion(int header) {
        return (header >>> 16) & 0xf;
    }

    /** Extended capability header: next offset in bits 31:20. */
    public static int extCapNext(int header) {
        return (header >>> 20) & 0xffc;
    }

    /** An extended capability header dword. */
    public static int extCapHeader(int id, int version, int next) {
        return (id & 0xffff) | ((version & 0xf) << 16) | ((next & 0xffc) << 20);
    }
}
