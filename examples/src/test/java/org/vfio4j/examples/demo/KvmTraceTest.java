package org.vfio4j.examples.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.vfio4j.refvmm.flat.GuestOutput;

/**
 * Parsing of tracefs text into stamped results and per-operation exit counts. The input follows the kernel's
 * {@code trace} format for the three KVM events (6.1's TP_printk strings); a live trace needs root and a VM, which the
 * benchmark run in the testbed provides.
 */
class KvmTraceTest {

    private static String pio(char c) {
        return String.format("  qemu-system-x86-123 [001] d..1. 10.000001: kvm_pio: pio_write at 0x402 size 1 count 1 "
                + "val 0x%x %n", (int) c);
    }

    private static String line(String text) {
        StringBuilder b = new StringBuilder();
        for (char c : text.toCharArray()) {
            b.append("  qemu-system-x86-123 [001] d..1. 10.000000: kvm_exit: vcpu 0 reason io rip 0xffff0123 info1 "
                    + "0x4020010 info2 0x0 intr_info 0x0 error_code 0x0\n");
            b.append(pio(c));
            b.append("  qemu-system-x86-123 [001] ..... 10.000002: kvm_userspace_exit: reason KVM_EXIT_IO (2)\n");
        }
        return b.toString();
    }

    @Test
    void stampsResultsWithExitsAndCountsPerOperation() {
        StringBuilder t = new StringBuilder("# tracer: nop\n#\n# entries-in-buffer/entries-written: 10/10   #P:2\n");
        t.append(line("mark.config.start=0x11e81234\n"));
        // two operations, each a CF8 write and a CFC read to userspace, plus one in-kernel exit (e.g. an NPF)
        for (int i = 0; i < 2; i++) {
            t.append("  qemu-system-x86-123 [001] d..1. 10.1: kvm_exit: vcpu 0 reason npf rip 0x1\n");
            for (int j = 0; j < 2; j++) {
                t.append("  qemu-system-x86-123 [001] d..1. 10.1: kvm_exit: vcpu 0 reason io rip 0x1\n");
                t.append("  qemu-system-x86-123 [001] d..1. 10.1: kvm_pio: pio_write at 0xcf8 size 4 count 1 "
                        + "val 0x80002000 \n");
                t.append("  qemu-system-x86-123 [001] ..... 10.1: kvm_userspace_exit: reason KVM_EXIT_IO (2)\n");
            }
        }
        t.append(line("config.cycles=0x00000178\n"));
        t.append(line("config.cycles.n=0x00000002\n"));
        KvmTrace.Result r = KvmTrace.parse(t.toString());
        assertFalse(r.lost());
        List<GuestOutput.Result> rs = r.output().results();
        assertEquals(List.of("mark.config.start", "config.cycles", "config.cycles.n"),
                rs.stream().map(GuestOutput.Result::key).toList());
        // The newline's kvm_exit precedes its kvm_pio; its userspace exit follows it.
        assertEquals(29, rs.get(0).exits(KvmTrace.ALL));
        assertEquals(28, rs.get(0).exits(KvmTrace.USERSPACE));
        assertEquals(3.0, VfioBench.exitsPerOp(rs, "config", x -> x.exits(KvmTrace.ALL), true));
        assertEquals(2.0, VfioBench.exitsPerOp(rs, "config", x -> x.exits(KvmTrace.USERSPACE), true));
    }

    @Test
    void eventsOfAnotherProcessAreToldApartByItsProcessId() {
        StringBuilder t = new StringBuilder("# tracer: nop\n");
        for (char c : "ab=0x00000001\n".toCharArray()) {
            t.append("          vcpu-0-18885   (  17533) [001] .....  3.5: kvm_userspace_exit: reason KVM_EXIT_IO (2)\n");
            t.append(String.format("          vcpu-0-18885   (  17533) [001] .....  3.5: kvm_pio: pio_write at 0x402 "
                    + "size 1 count 1 val 0x%x%n", (int) c));
            t.append("   qemu-system-x86-900   (    900) [000] .....  3.5: kvm_userspace_exit: reason KVM_EXIT_IO (2)\n");
            t.append("   qemu-system-x86-900   (    900) [000] .....  3.5: kvm_userspace_exit: reason KVM_EXIT_IO (2)\n");
        }
        var byProcess = KvmTrace.parseByProcess(t.toString());
        assertEquals(java.util.Set.of("17533", "900"), byProcess.keySet());
        List<GuestOutput.Result> rs = byProcess.get("17533").output().results();
        assertEquals(1, rs.size());
        assertEquals(14, rs.get(0).exits(KvmTrace.USERSPACE), "only that process's exits");
        assertEquals(40, KvmTrace.parse(t.toString()).output().results().get(0).exits(KvmTrace.USERSPACE),
                "without the split the other process's exits would count too");
    }

    @Test
    void notesAnOverflowedBuffer() {
        assertTrue(KvmTrace.parse("# entries-in-buffer/entries-written: 10/12   #P:2\n").lost());
    }

    @Test
    void missingMarksGiveNoNumber() {
        assertTrue(Double.isNaN(VfioBench.exitsPerOp(List.of(), "msix", x -> 0L, true)));
    }
}
