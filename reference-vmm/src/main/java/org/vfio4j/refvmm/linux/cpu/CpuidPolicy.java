package org.vfio4j.refvmm.linux.cpu;

import java.util.ArrayList;
import java.util.List;
import org.vfio4j.core.kvm.CpuidEntry;

/**
 * What a vCPU of the Linux VMM reports through CPUID: KVM_GET_SUPPORTED_CPUID, filtered the way a VMM must rather
 * than handed over whole. KVM's list describes what the host can virtualize, not a machine: the topology leaves
 * carry no per-vCPU APIC ids, the hypervisor bit is clear, and it offers features this VMM does not back with
 * emulation.
 *
 * <ul>
 *   <li>leaf 1: EBX carries the vCPU's initial APIC id (bits 31-24) and the logical processor count (bits 23-16);
 *       ECX sets the hypervisor bit (31) and clears VMX (5) and the machine-check features are left as KVM says;
 *       EDX sets HTT when there is more than one vCPU.</li>
 *   <li>leaves 0xB and 0x1F (x2APIC topology): EDX is the vCPU's x2APIC id; every vCPU is its own core with one
 *       thread.</li>
 *   <li>leaf 0x8000_0001: SVM (ECX bit 2) cleared, so the guest does not try nested virtualization the VMM never
 *       set up (nested SVM needs MSR and state handling this VMM does not do).</li>
 *   <li>leaf 0xA (architectural PMU): zeroed; the VMM programs no PMU MSRs and nested-under-TCG hosts have no
 *       working counters to offer.</li>
 *   <li>leaf 4 (Intel cache topology): EAX bits 31-26 (cores per package - 1) and 25-14 (threads sharing the cache
 *       - 1) are set from the vCPU count, so Linux's topology code agrees with the MADT.</li>
 * </ul>
 */
public final class CpuidPolicy {
    private static final int HYPERVISOR = 1 << 31;
    private static final int VMX = 1 << 5;
    private static final int HTT = 1 << 28;
    private static final int SVM = 1 << 2;

    private CpuidPolicy() {
    }

    /** The leaves vCPU {@code apicId} of a VM with {@code vcpus} vCPUs reports. */
    public static List<CpuidEntry> forVcpu(List<CpuidEntry> supported, int apicId, int vcpus) {
        List<CpuidEntry> out = new ArrayList<>(supported.size());
        for (CpuidEntry e : supported) {
            out.add(switch (e.function()) {
                case 1 -> e.withRegisters(e.eax(),
                        (e.ebx() & 0x0000ffff) | (apicId << 24) | (Math.min(vcpus, 255) << 16),
                        (e.ecx() | HYPERVISOR) & ~VMX,
                        vcpus > 1 ? e.edx() | HTT : e.edx() & ~HTT);
                case 4 -> e.eax() == 0 ? e : e.withRegisters((e.eax() & 0x00003fff) | ((vcpus - 1) << 26)
                        | (cacheSharing(e.eax(), vcpus) << 14), e.ebx(), e.ecx(), e.edx());
                case 0xa -> e.withRegisters(0, 0, 0, 0);
                case 0xb, 0x1f -> topology(e, apicId, vcpus);
                case 0x80000001 -> e.withRegisters(e.eax(), e.ebx(), e.ecx() & ~SVM, e.edx());
                default -> e;
            });
        }
        return out;
    }

    /** Leaf 4's cache level (EAX bits 7-5): L3 is shared by all vCPUs, lower levels by one. */
    private static int cacheSharing(int eax, int vcpus) {
        int level = (eax >>> 5) & 7;
        return level >= 3 ? vcpus - 1 : 0;
    }

    /**
     * x2APIC topology: sub-leaf 0 is the SMT level (one thread per core: shift 0, 1 processor), sub-leaf 1 the core
     * level (shift enough for the vCPU count), higher sub-leaves invalid; EDX is always the x2APIC id.
     */
    private static CpuidEntry topology(CpuidEntry e, int apicId, int vcpus) {
        int shift = 32 - Integer.numberOfLeadingZeros(Math.max(vcpus - 1, 0));
        return switch (e.index()) {
            case 0 -> e.withRegisters(0, 1, (1 << 8) | e.index(), apicId);
            case 1 -> e.withRegisters(shift, vcpus, (2 << 8) | e.index(), apicId);
            default -> e.withRegisters(0, 0, e.index(), apicId);
        };
    }
}
