package org.vfio4j.core.kvm;

import org.vfio4j.core.sys.Ioctl;

/**
 * The KVM uAPI for x86-64 as {@code <linux/kvm.h>} (linux-libc-dev 6.1) defines it: ioctl numbers, capability and
 * flag values, exit reasons, and the byte offsets of the structures this package fills in. Layout only, no logic;
 * every value here is compared with the C header by {@code KvmAbiHeaderTest}.
 */
public final class KvmAbi {
    private KvmAbi() {
    }

    private static final int KVMIO = 0xAE;

    /** The API version this code speaks; KVM has answered 12 since Linux 2.6.22. */
    public static final int API_VERSION = 12;

    // System ioctls (on /dev/kvm).
    public static final Ioctl KVM_GET_API_VERSION = Ioctl.io("KVM_GET_API_VERSION", KVMIO, 0x00);
    public static final Ioctl KVM_CREATE_VM = Ioctl.io("KVM_CREATE_VM", KVMIO, 0x01);
    public static final Ioctl KVM_CHECK_EXTENSION = Ioctl.io("KVM_CHECK_EXTENSION", KVMIO, 0x03);
    public static final Ioctl KVM_GET_VCPU_MMAP_SIZE = Ioctl.io("KVM_GET_VCPU_MMAP_SIZE", KVMIO, 0x04);
    public static final Ioctl KVM_GET_SUPPORTED_CPUID =
            Ioctl.iowr("KVM_GET_SUPPORTED_CPUID", KVMIO, 0x05, Sizes.CPUID2);

    // VM ioctls.
    public static final Ioctl KVM_CREATE_VCPU = Ioctl.io("KVM_CREATE_VCPU", KVMIO, 0x41);
    public static final Ioctl KVM_SET_USER_MEMORY_REGION =
            Ioctl.iow("KVM_SET_USER_MEMORY_REGION", KVMIO, 0x46, Sizes.USER_MEMORY_REGION);
    public static final Ioctl KVM_GET_DIRTY_LOG = Ioctl.iow("KVM_GET_DIRTY_LOG", KVMIO, 0x42, Sizes.DIRTY_LOG);
    public static final Ioctl KVM_SET_TSS_ADDR = Ioctl.io("KVM_SET_TSS_ADDR", KVMIO, 0x47);
    public static final Ioctl KVM_SET_IDENTITY_MAP_ADDR = Ioctl.iow("KVM_SET_IDENTITY_MAP_ADDR", KVMIO, 0x48, 8);
    public static final Ioctl KVM_REGISTER_COALESCED_MMIO =
            Ioctl.iow("KVM_REGISTER_COALESCED_MMIO", KVMIO, 0x67, Sizes.COALESCED_MMIO_ZONE);
    public static final Ioctl KVM_UNREGISTER_COALESCED_MMIO =
            Ioctl.iow("KVM_UNREGISTER_COALESCED_MMIO", KVMIO, 0x68, Sizes.COALESCED_MMIO_ZONE);
    public static final Ioctl KVM_CREATE_IRQCHIP = Ioctl.io("KVM_CREATE_IRQCHIP", KVMIO, 0x60);
    public static final Ioctl KVM_IRQ_LINE = Ioctl.iow("KVM_IRQ_LINE", KVMIO, 0x61, Sizes.IRQ_LEVEL);
    public static final Ioctl KVM_SET_GSI_ROUTING = Ioctl.iow("KVM_SET_GSI_ROUTING", KVMIO, 0x6a, Sizes.IRQ_ROUTING);
    public static final Ioctl KVM_IRQFD = Ioctl.iow("KVM_IRQFD", KVMIO, 0x76, Sizes.IRQFD);
    public static final Ioctl KVM_CREATE_PIT2 = Ioctl.iow("KVM_CREATE_PIT2", KVMIO, 0x77, Sizes.PIT_CONFIG);
    public static final Ioctl KVM_IOEVENTFD = Ioctl.iow("KVM_IOEVENTFD", KVMIO, 0x79, Sizes.IOEVENTFD);
    public static final Ioctl KVM_SIGNAL_MSI = Ioctl.iow("KVM_SIGNAL_MSI", KVMIO, 0xa5, Sizes.MSI);
    public static final Ioctl KVM_CREATE_DEVICE = Ioctl.iowr("KVM_CREATE_DEVICE", KVMIO, 0xe0, Sizes.CREATE_DEVICE);
    public static final Ioctl KVM_SET_DEVICE_ATTR = Ioctl.iow("KVM_SET_DEVICE_ATTR", KVMIO, 0xe1, Sizes.DEVICE_ATTR);
    public static final Ioctl KVM_HAS_DEVICE_ATTR = Ioctl.iow("KVM_HAS_DEVICE_ATTR", KVMIO, 0xe3, Sizes.DEVICE_ATTR);

    // vCPU ioctls.
    public static final Ioctl KVM_RUN = Ioctl.io("KVM_RUN", KVMIO, 0x80);
    public static final Ioctl KVM_GET_REGS = Ioctl.ior("KVM_GET_REGS", KVMIO, 0x81, Sizes.REGS);
    public static final Ioctl KVM_SET_REGS = Ioctl.iow("KVM_SET_REGS", KVMIO, 0x82, Sizes.REGS);
    public static final Ioctl KVM_GET_SREGS = Ioctl.ior("KVM_GET_SREGS", KVMIO, 0x83, Sizes.SREGS);
    public static final Ioctl KVM_SET_SREGS = Ioctl.iow("KVM_SET_SREGS", KVMIO, 0x84, Sizes.SREGS);
    public static final Ioctl KVM_GET_LAPIC = Ioctl.ior("KVM_GET_LAPIC", KVMIO, 0x8e, Sizes.LAPIC_STATE);
    public static final Ioctl KVM_SET_LAPIC = Ioctl.iow("KVM_SET_LAPIC", KVMIO, 0x8f, Sizes.LAPIC_STATE);
    public static final Ioctl KVM_SET_CPUID2 = Ioctl.iow("KVM_SET_CPUID2", KVMIO, 0x90, Sizes.CPUID2);

    /** Capabilities asked with KVM_CHECK_EXTENSION. */
    public static final class Cap {
        private Cap() {
        }

        public static final int IRQCHIP = 0;
        public static final int USER_MEMORY = 3;
        public static final int EXT_CPUID = 7;
        public static final int SET_TSS_ADDR = 4;
        public static final int NR_VCPUS = 9;
        public static final int NR_MEMSLOTS = 10;
        /** Answers the page offset of the coalesced ring in the vCPU mapping (0: none). */
        public static final int COALESCED_MMIO = 15;
        public static final int IRQ_ROUTING = 25;
        public static final int IRQFD = 32;
        public static final int PIT2 = 33;
        public static final int IOEVENTFD = 36;
        public static final int SET_IDENTITY_MAP_ADDR = 37;
        public static final int MAX_VCPUS = 66;
        public static final int SIGNAL_MSI = 77;
        public static final int READONLY_MEM = 81;
        public static final int IRQFD_RESAMPLE = 82;
        public static final int DEVICE_CTRL = 89;
        public static final int IMMEDIATE_EXIT = 136;
        public static final int COALESCED_PIO = 162;
    }

    // Flags.
    public static final int KVM_MEM_LOG_DIRTY_PAGES = 1;
    public static final int KVM_MEM_READONLY = 2;
    public static final int KVM_IRQFD_FLAG_DEASSIGN = 1;
    public static final int KVM_IRQFD_FLAG_RESAMPLE = 2;
    public static final int KVM_IOEVENTFD_FLAG_DATAMATCH = 1;
    public static final int KVM_IOEVENTFD_FLAG_PIO = 2;
    public static final int KVM_IOEVENTFD_FLAG_DEASSIGN = 4;
    public static final int KVM_IRQ_ROUTING_IRQCHIP = 1;
    public static final int KVM_IRQ_ROUTING_MSI = 2;
    public static final int KVM_IRQCHIP_PIC_MASTER = 0;
    public static final int KVM_IRQCHIP_PIC_SLAVE = 1;
    public static final int KVM_IRQCHIP_IOAPIC = 2;
    public static final int KVM_DEV_TYPE_VFIO = 4;
    public static final int KVM_DEV_VFIO_GROUP = 1;
    public static final int KVM_DEV_VFIO_GROUP_ADD = 1;
    public static final int KVM_DEV_VFIO_GROUP_DEL = 2;
    public static final int KVM_PIT_SPEAKER_DUMMY = 1;
    public static final int KVM_EXIT_IO_IN = 0;
    public static final int KVM_EXIT_IO_OUT = 1;

    /** {@code KVM_EXIT_*} values of {@code kvm_run.exit_reason}. */
    public static final class Exit {
        private Exit() {
        }

        public static final int UNKNOWN = 0;
        public static final int EXCEPTION = 1;
        public static final int IO = 2;
        public static final int HYPERCALL = 3;
        public static final int DEBUG = 4;
        public static final int HLT = 5;
        public static final int MMIO = 6;
        public static final int IRQ_WINDOW_OPEN = 7;
        public static final int SHUTDOWN = 8;
        public static final int FAIL_ENTRY = 9;
        public static final int INTR = 10;
        public static final int SET_TPR = 11;
        public static final int TPR_ACCESS = 12;
        public static final int NMI = 16;
        public static final int INTERNAL_ERROR = 17;
        public static final int SYSTEM_EVENT = 24;
        public static final int X86_RDMSR = 29;
        public static final int X86_WRMSR = 30;

        private static final String[] NAMES = new String[40];

        static {
            NAMES[UNKNOWN] = "UNKNOWN";
            NAMES[EXCEPTION] = "EXCEPTION";
            NAMES[IO] = "IO";
            NAMES[HYPERCALL] = "HYPERCALL";
            NAMES[DEBUG] = "DEBUG";
            NAMES[HLT] = "HLT";
            NAMES[MMIO] = "MMIO";
            NAMES[IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN";
            NAMES[SHUTDOWN] = "SHUTDOWN";
            NAMES[FAIL_ENTRY] = "FAIL_ENTRY";
            NAMES[INTR] = "INTR";
            NAMES[SET_TPR] = "SET_TPR";
            NAMES[TPR_ACCESS] = "TPR_ACCESS";
            NAMES[NMI] = "NMI";
            NAMES[INTERNAL_ERROR] = "INTERNAL_ERROR";
            NAMES[SYSTEM_EVENT] = "SYSTEM_EVENT";
            NAMES[X86_RDMSR] = "X86_RDMSR";
            NAMES[X86_WRMSR] = "X86_WRMSR";
        }

        /** The number of exit reasons the counters track; larger reasons share the last bucket. */
        public static final int COUNT = NAMES.length;

        /** {@code KVM_EXIT_<name>} without the prefix, or {@code "reason N"}. */
        public static String name(int reason) {
            if (reason >= 0 && reason < NAMES.length && NAMES[reason] != null) {
                return NAMES[reason];
            }
            return "reason " + reason;
        }
    }

    /** Structure sizes. */
    public static final class Sizes {
        private Sizes() {
        }

        public static final int USER_MEMORY_REGION = 32;
        public static final int DIRTY_LOG = 16;
        public static final int IRQ_LEVEL = 8;
        /** {@code struct kvm_irq_routing} header; entries follow. */
        public static final int IRQ_ROUTING = 8;
        public static final int IRQ_ROUTING_ENTRY = 48;
        public static final int IRQFD = 32;
        public static final int PIT2 = 33;
        public static final int IOEVENTFD = 64;
        public static final int MSI = 32;
        public static final int CREATE_DEVICE = 12;
        public static final int DEVICE_ATTR = 24;
        public static final int REGS = 144;
        public static final int SREGS = 312;
        public static final int SEGMENT = 24;
        public static final int DTABLE = 16;
        /** {@code struct kvm_cpuid2} header; entries follow. */
        public static final int CPUID2 = 8;
        public static final int CPUID_ENTRY2 = 40;
        public static final int PIT_CONFIG = 64;
        public static final int LAPIC_STATE = 1024;
        public static final int COALESCED_MMIO_ZONE = 16;
        /** {@code struct kvm_coalesced_mmio}: one ring entry. */
        public static final int COALESCED_MMIO = 24;
        /** {@code struct kvm_coalesced_mmio_ring} header ({@code first}, {@code last}); entries follow. */
        public static final int COALESCED_MMIO_RING = 8;
    }

    /** {@code KVM_COALESCED_MMIO_MAX}: ring entries in one 4 KiB page. */
    public static final int COALESCED_MMIO_MAX = (4096 - Sizes.COALESCED_MMIO_RING) / Sizes.COALESCED_MMIO;

    /** {@code struct kvm_coalesced_mmio_zone}, {@code struct kvm_coalesced_mmio} and the ring header. */
    public static final class Coalesced {
        private Coalesced() {
        }

        public static final int ZONE_ADDR = 0;
        public static final int ZONE_SIZE = 8;
        public static final int ZONE_PIO = 12;
        public static final int RING_FIRST = 0;
        public static final int RING_LAST = 4;
        public static final int RING_ENTRIES = 8;
        public static final int ENTRY_PHYS_ADDR = 0;
        public static final int ENTRY_LEN = 8;
        public static final int ENTRY_PIO = 12;
        public static final int ENTRY_DATA = 16;
    }

    /** {@code struct kvm_cpuid_entry2}, offsets within one entry. */
    public static final class CpuidEntry {
        private CpuidEntry() {
        }

        public static final int FUNCTION = 0;
        public static final int INDEX = 4;
        public static final int FLAGS = 8;
        public static final int EAX = 12;
        public static final int EBX = 16;
        public static final int ECX = 20;
        public static final int EDX = 24;
    }

    /** {@code struct kvm_run} offsets (the mmapped per-vCPU page). */
    public static final class Run {
        private Run() {
        }

        public static final int IMMEDIATE_EXIT = 1;
        public static final int EXIT_REASON = 8;
        public static final int IF_FLAG = 13;
        /** Start of the exit-specific union. */
        public static final int UNION = 32;
        public static final int FAIL_ENTRY_REASON = UNION;
        public static final int FAIL_ENTRY_CPU = UNION + 8;
        public static final int IO_DIRECTION = UNION;
        public static final int IO_SIZE = UNION + 1;
        public static final int IO_PORT = UNION + 2;
        public static final int IO_COUNT = UNION + 4;
        public static final int IO_DATA_OFFSET = UNION + 8;
        public static final int MMIO_PHYS_ADDR = UNION;
        public static final int MMIO_DATA = UNION + 8;
        public static final int MMIO_LEN = UNION + 16;
        public static final int MMIO_IS_WRITE = UNION + 20;
        public static final int INTERNAL_SUBERROR = UNION;
        public static final int INTERNAL_NDATA = UNION + 4;
        public static final int INTERNAL_DATA = UNION + 8;
        public static final int SYSTEM_EVENT_TYPE = UNION;
    }

    /** {@code struct kvm_userspace_memory_region}. */
    public static final class MemRegion {
        private MemRegion() {
        }

        public static final int SLOT = 0;
        public static final int FLAGS = 4;
        public static final int GUEST_PHYS_ADDR = 8;
        public static final int MEMORY_SIZE = 16;
        public static final int USERSPACE_ADDR = 24;
    }

    /** {@code struct kvm_irq_routing_entry}, offsets within one entry. */
    public static final class RoutingEntry {
        private RoutingEntry() {
        }

        public static final int GSI = 0;
        public static final int TYPE = 4;
        public static final int FLAGS = 8;
        public static final int IRQCHIP_IRQCHIP = 16;
        public static final int IRQCHIP_PIN = 20;
        public static final int MSI_ADDRESS_LO = 16;
        public static final int MSI_ADDRESS_HI = 20;
        public static final int MSI_DATA = 24;
    }

    /** {@code struct kvm_irqfd}. */
    public static final class IrqFd {
        private IrqFd() {
        }

        public static final int FD = 0;
        public static final int GSI = 4;
        public static final int FLAGS = 8;
        public static final int RESAMPLEFD = 12;
    }

    /** {@code struct kvm_ioeventfd}. */
    public static final class IoEventFd {
        private IoEventFd() {
        }

        public static final int DATAMATCH = 0;
        public static final int ADDR = 8;
        public static final int LEN = 16;
        public static final int FD = 20;
        public static final int FLAGS = 24;
    }

    /** {@code struct kvm_msi}. */
    public static final class Msi {
        private Msi() {
        }

        public static final int ADDRESS_LO = 0;
        public static final int ADDRESS_HI = 4;
        public static final int DATA = 8;
        public static final int FLAGS = 12;
    }

    /** {@code struct kvm_create_device} and {@code struct kvm_device_attr}. */
    public static final class Device {
        private Device() {
        }

        public static final int CREATE_TYPE = 0;
        public static final int CREATE_FD = 4;
        public static final int CREATE_FLAGS = 8;
        public static final int ATTR_FLAGS = 0;
        public static final int ATTR_GROUP = 4;
        public static final int ATTR_ATTR = 8;
        public static final int ATTR_ADDR = 16;
    }

    /** {@code struct kvm_sregs}: segments, descriptor tables and control registers. */
    public static final class Sregs {
        private Sregs() {
        }

        public static final int CS = 0;
        public static final int DS = 24;
        public static final int ES = 48;
        public static final int FS = 72;
        public static final int GS = 96;
        public static final int SS = 120;
        public static final int TR = 144;
        public static final int LDT = 168;
        public static final int GDT = 192;
        public static final int IDT = 208;
        public static final int CR0 = 224;
        public static final int CR2 = 232;
        public static final int CR3 = 240;
        public static final int CR4 = 248;
        public static final int CR8 = 256;
        public static final int EFER = 264;
        public static final int APIC_BASE = 272;
    }

    /** {@code struct kvm_segment}, offsets within one segment. */
    public static final class Segment {
        private Segment() {
        }

        public static final int BASE = 0;
        public static final int LIMIT = 8;
        public static final int SELECTOR = 12;
        public static final int TYPE = 14;
        public static final int PRESENT = 15;
        public static final int DPL = 16;
        public static final int DB = 17;
        public static final int S = 18;
        public static final int L = 19;
        public static final int G = 20;
        public static final int AVL = 21;
        public static final int UNUSABLE = 22;
    }

    /** {@code struct kvm_dtable}. */
    public static final class DTable {
        private DTable() {
        }

        public static final int BASE = 0;
        public static final int LIMIT = 8;
    }

    /** {@code struct kvm_regs}: general registers, each 8 bytes, in this order. */
    public static final class Regs {
        private Regs() {
        }

        public static final int RAX = 0;
        public static final int RBX = 8;
        public static final int RCX = 16;
        public static final int RDX = 24;
        public static final int RSI = 32;
        public static final int RDI = 40;
        public static final int RSP = 48;
        public static final int RBP = 56;
        public static final int RIP = 128;
        public static final int RFLAGS = 136;
    }
}
