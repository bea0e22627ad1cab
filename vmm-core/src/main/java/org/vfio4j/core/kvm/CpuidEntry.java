package org.vfio4j.core.kvm;

/**
 * One CPUID leaf as {@code struct kvm_cpuid_entry2} carries it: what KVM_GET_SUPPORTED_CPUID reports and what
 * KVM_SET_CPUID2 gives a vCPU.
 *
 * @param function the leaf (EAX on input)
 * @param index the sub-leaf (ECX on input), meaningful when {@code flags} has {@link #FLAG_SIGNIFICANT_INDEX}
 * @param flags {@code KVM_CPUID_FLAG_*}
 * @param eax EAX on output
 * @param ebx EBX on output
 * @param ecx ECX on output
 * @param edx EDX on output
 */
public record CpuidEntry(int function, int index, int flags, int eax, int ebx, int ecx, int edx) {
    /** {@code KVM_CPUID_FLAG_SIGNIFCANT_INDEX} (sic, the header's spelling): the sub-leaf selects this entry. */
    public static final int FLAG_SIGNIFICANT_INDEX = 1;

    /** A copy with new output registers. */
    public CpuidEntry withRegisters(int eax, int ebx, int ecx, int edx) {
        return new CpuidEntry(function, index, flags, eax, ebx, ecx, edx);
    }

    @Override
    public String toString() {
        return String.format("cpuid 0x%x.%d: eax=%08x ebx=%08x ecx=%08x edx=%08x", function, index, eax, ebx, ecx,
                edx);
    }
}
