package org.vfio4j.core.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * KVM_GET_SUPPORTED_CPUID, KVM_SET_CPUID2, KVM_CREATE_PIT2 and the LAPIC state ioctls on this host's /dev/kvm: a
 * 32-bit guest executes CPUID and sees the leaf the VMM set, and reads the in-kernel PIT's counter without exits.
 */
class CpuidAndPitTest {

    @BeforeEach
    void needKvm() {
        GuestRig.assumeKvm();
    }

    @Test
    void supportedCpuidHasTheBasicLeavesAndAVendor() {
        try (GuestRig rig = new GuestRig(true)) {
            List<CpuidEntry> leaves = rig.vmm.kvm().supportedCpuid();
            CpuidEntry leaf0 = leaves.stream().filter(e -> e.function() == 0).findFirst().orElseThrow();
            assertTrue(leaf0.eax() >= 1, "leaf 0 reports the highest basic leaf: " + leaf0);
            assertTrue(leaves.stream().anyMatch(e -> e.function() == 1), "leaf 1 present");
            assertTrue(leaves.stream().anyMatch(e -> e.function() == 0x80000000), "extended leaves present");
        }
    }

    @Test
    void theGuestSeesTheCpuidTheVmmSet() throws Exception {
        try (GuestRig rig = new GuestRig(true)) {
            List<CpuidEntry> leaves = new ArrayList<>();
            for (CpuidEntry e : rig.vmm.kvm().supportedCpuid()) {
                // A recognisable EBX in leaf 1: APIC id 0x2a, as a VMM sets per vCPU.
                leaves.add(e.function() == 1 ? e.withRegisters(e.eax(), (e.ebx() & 0x00ffffff) | (0x2a << 24),
                        e.ecx(), e.edx()) : e);
            }
            rig.vcpu.setCpuid(leaves);
            rig.startFlat32("""
                    mov $1, %eax
                    xor %ecx, %ecx
                    cpuid
                    mov %ebx, %eax
                    shr $24, %eax
                    out %eax, $0xf0
                    1: hlt
                    jmp 1b
                    """);
            assertEquals(0x2a, rig.awaitReport(0xf0));
        }
    }

    @Test
    void theInKernelPitCountsDownWithoutExits() throws Exception {
        try (GuestRig rig = new GuestRig(true)) {
            rig.vmm.vm().createPit();
            // Channel 0, lobyte/hibyte, mode 2, count 0xffff; latch and read it twice: it moved, and no exit
            // reached the VMM's port bus (the reads land on the report port only).
            rig.startFlat32("""
                    mov $0x34, %al
                    out %al, $0x43
                    mov $0xff, %al
                    out %al, $0x40
                    out %al, $0x40
                    mov $0x2000, %ecx
                    1: loop 1b
                    xor %eax, %eax
                    out %al, $0x43
                    in $0x40, %al
                    mov %al, %bl
                    in $0x40, %al
                    mov %al, %bh
                    movzwl %bx, %eax
                    out %eax, $0xf0
                    1: hlt
                    jmp 1b
                    """);
            long count = rig.awaitReport(0xf0);
            assertTrue(count > 0 && count < 0xffff, "the PIT counted down from 0xffff: " + count);
            assertEquals(1, rig.thread.exitCount(KvmAbi.Exit.IO), "only the report port exited: "
                    + rig.thread.exitCounts());
        }
    }

    @Test
    void lapicStateRoundTrips() {
        try (GuestRig rig = new GuestRig(true)) {
            byte[] state = rig.vcpu.lapicState();
            assertEquals(KvmAbi.Sizes.LAPIC_STATE, state.length);
            // LVT LINT0 at 0x350: ExtINT delivery (7 << 8), unmasked.
            state[0x350] = 0;
            state[0x351] = 7;
            state[0x352] = 0;
            state[0x353] = 0;
            rig.vcpu.setLapicState(state);
            byte[] back = rig.vcpu.lapicState();
            assertEquals(7, back[0x351] & 7);
            assertFalse((back[0x352] & 1) != 0, "LINT0 unmasked");
        }
    }
}
