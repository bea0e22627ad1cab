package org.vfio4j.core.kvm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.vfio4j.core.bus.TrapHandler;
import org.vfio4j.core.irq.InterruptController;
import org.vfio4j.core.irq.MsiMessage;
import org.vfio4j.core.memory.DeviceMemorySlot;
import org.vfio4j.core.sys.EventFd;
import org.vfio4j.core.sys.MemoryMapping;
import org.vfio4j.core.sys.Syscalls;

/** Guest programs on this host's /dev/kvm: exits reach the trap buses, memory and interrupts work end to end. */
class KvmGuestTest {

    @BeforeEach
    void needKvm() {
        GuestRig.assumeKvm();
    }

    /** Records writes and answers reads with a fixed value, counting both. */
    static final class Port implements TrapHandler {
        final long answer;
        final List<long[]> writes = new ArrayList<>();
        final List<long[]> reads = new ArrayList<>();

        Port(long answer) {
            this.answer = answer;
        }

        @Override
        public synchronized long read(long offset, int size) {
            reads.add(new long[] {offset, size});
            return answer + reads.size() - 1;
        }

        @Override
        public synchronized void write(long offset, int size, long value) {
            writes.add(new long[] {offset, size, value});
        }
    }

    @Test
    void pioAndMmioReachTheHandlersAndTheirValuesReachTheGuest() throws Exception {
        try (GuestRig rig = new GuestRig(true)) {
            Port in8 = new Port(0x41);
            Port out8 = new Port(0);
            Port in16 = new Port(0xbeef);
            Port out16 = new Port(0);
            Port strOut = new Port(0);
            Port strIn = new Port(0xa0);
            Port mmio = new Port(0x11223344L);
            rig.vmm.pioBus().register(0x10, 1, in8, "in8");
            rig.vmm.pioBus().register(0x11, 1, out8, "out8");
            rig.vmm.pioBus().register(0x12, 2, in16, "in16");
            rig.vmm.pioBus().register(0x14, 2, out16, "out16");
            rig.vmm.pioBus().register(0x16, 1, strOut, "string out");
            rig.vmm.pioBus().register(0x17, 1, strIn, "string in");
            rig.vmm.mmioBus().register(0xa0000, 0x1000, mmio, "mmio window");
            rig.startReal("""
                    in $0x10, %al
                    inc %al
                    out %al, $0x11
                    in $0x12, %ax
                    add $1, %ax
                    out %ax, $0x14
                    movl $0x44332211, 0x6000
                    mov $0x6000, %si
                    mov $0x16, %dx
                    mov $4, %cx
                    cld
                    rep outsb
                    mov $0x6100, %di
                    mov $0x17, %dx
                    mov $4, %cx
                    rep insb
                    mov $0xa000, %bx
                    mov %bx, %es
                    movl %es:0x10, %eax
                    add $1, %eax
                    movl %eax, %es:0x20
                    movl $0xcafef00d, 0x5000
                    out %al, $0xf0
                    1: hlt
                    jmp 1b
                    """);
            rig.awaitReport(0xf0);

            assertEquals(1, in8.reads.size());
            assertArrayEquals(new long[] {0, 1, 0x42}, out8.writes.get(0), "port 0x10 value + 1 written to 0x11");
            assertArrayEquals(new long[] {0, 2, 0xbef0}, out16.writes.get(0), "16-bit in, +1, 16-bit out");
            assertEquals(List.of(0x11L, 0x22L, 0x33L, 0x44L),
                    strOut.writes.stream().map(w -> w[2]).toList(), "rep outsb bytes in order");
            assertArrayEquals(new byte[] {(byte) 0xa0, (byte) 0xa1, (byte) 0xa2, (byte) 0xa3},
                    rig.vmm.guestMemory().read(0x6100, 4), "rep insb stored each value the handler gave");
            assertEquals(1, mmio.reads.size());
            assertArrayEquals(new long[] {0x10, 4}, mmio.reads.get(0));
            assertArrayEquals(new long[] {0x20, 4, 0x11223345L}, mmio.writes.get(0), "MMIO read value + 1 back");
            assertEquals(0xcafef00d, java.nio.ByteBuffer.wrap(rig.vmm.guestMemory().read(0x5000, 4))
                    .order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt(), "guest RAM write visible to the host");
            assertEquals(2, rig.thread.exitCount(KvmAbi.Exit.MMIO));
            assertEquals(2L, rig.vmm.exitCounts().get("MMIO"));
            assertEquals(0, rig.vmm.pioBus().unclaimedAccesses());
        }
    }

    @Test
    void haltWithoutIrqchipEndsTheRunLoop() throws Exception {
        try (GuestRig rig = new GuestRig(false)) {
            rig.startReal("""
                    mov $7, %al
                    out %al, $0xf2
                    hlt
                    """);
            assertEquals(7, rig.awaitReport(0xf2));
            VcpuStop stop = rig.thread.stopped().get(20, TimeUnit.SECONDS);
            assertEquals(VcpuStop.Cause.HALTED, stop.cause());
            assertEquals(1, rig.thread.exitCount(KvmAbi.Exit.HLT));
            assertEquals(CODE_AFTER_HLT, rig.vcpu.registers().rip(), "rip past the hlt");
        }
    }

    private static final long CODE_AFTER_HLT = GuestRig.CODE + 5;

    @Test
    void shutdownIsReported() throws Exception {
        try (GuestRig rig = new GuestRig(false)) {
            // Load an empty IDT and fault: no handler for #UD, no #DF handler -> triple fault -> shutdown.
            rig.startFlat32("""
                    lidt idtr
                    ud2
                    idtr: .word 0
                    .long 0
                    """);
            VcpuStop stop = rig.thread.stopped().get(20, TimeUnit.SECONDS);
            assertEquals(VcpuStop.Cause.SHUTDOWN, stop.cause(), stop.toString());
            assertEquals(1, rig.thread.exitCount(KvmAbi.Exit.SHUTDOWN));
        }
    }

    @Test
    void deviceMemorySlotIsReadWithoutAnExitAndIsReadOnly() throws Exception {
        try (GuestRig rig = new GuestRig(true);
                MemoryMapping bar = MemoryMapping.anonymous(Syscalls.linux(), 4096, "fake BAR")) {
            bar.setInt(0, 0x12345678);
            int before = rig.vmm.deviceMemory().slotsAvailable();
            DeviceMemorySlot slot = rig.vmm.deviceMemory().map(0xb0000, 4096, bar.address(), true, "fake BAR");
            assertEquals(before - 1, rig.vmm.deviceMemory().slotsAvailable());
            Port report = new Port(0);
            rig.vmm.pioBus().register(0x18, 4, report, "report");
            rig.startReal("""
                    mov $0xb000, %bx
                    mov %bx, %es
                    movl %es:0, %eax
                    outl %eax, $0x18
                    movl $0x55, %es:4
                    out %al, $0xf0
                    1: hlt
                    jmp 1b
                    """);
            rig.awaitReport(0xf0);
            assertEquals(0x12345678L, report.writes.get(0)[2], "guest read the host memory behind the slot");
            assertEquals(1, rig.thread.exitCount(KvmAbi.Exit.MMIO), "only the write to the read-only slot exits");
            assertEquals(1, rig.vmm.mmioBus().unclaimedAccesses(), "that write went to the MMIO bus");
            assertEquals(0, bar.getInt(4), "read-only slot: host memory unchanged");
            slot.close();
            slot.close();
            assertEquals(before, rig.vmm.deviceMemory().slotsAvailable(), "closing frees the slot once");
        }
    }

    @Test
    void irqfdDeliversPicInterruptsTheGuestCounts() throws Exception {
        try (GuestRig rig = new GuestRig(true);
                EventFd trigger = EventFd.create(Syscalls.linux(), "irq5")) {
            InterruptController irq = rig.vmm.interrupts();
            assertTrue(irq.hasKernelIrqFd());
            InterruptController.IrqFdBinding binding = irq.irqFd(trigger, 5, null);
            rig.startReal("""
                    cli
                    movw $handler, 0x94
                    movw $0, 0x96
                    mov $0x11, %al
                    out %al, $0x20
                    mov $0x20, %al
                    out %al, $0x21
                    mov $0x04, %al
                    out %al, $0x21
                    mov $0x01, %al
                    out %al, $0x21
                    mov $0xdf, %al
                    out %al, $0x21
                    movw $0, 0x500
                    out %al, $0xf1
                    sti
                    1: hlt
                    jmp 1b
                    handler:
                    push %ax
                    incw 0x500
                    mov 0x500, %ax
                    out %ax, $0xf4
                    mov $0x20, %al
                    out %al, $0x20
                    pop %ax
                    iret
                    """);
            rig.awaitReport(0xf1);
            for (int i = 1; i <= 3; i++) {
                trigger.signal();
                assertEquals(i, rig.awaitReport(0xf4), "guest handler count after irqfd signal " + i);
            }
            binding.close();
            binding.close();
            assertEquals(3, rig.vmm.guestMemory().read(0x500, 1)[0]);
        }
    }

    @Test
    void irqLineRaisesAPicInterrupt() throws Exception {
        try (GuestRig rig = new GuestRig(true)) {
            rig.startReal(PIC_IRQ5_GUEST);
            rig.awaitReport(0xf1);
            rig.vmm.interrupts().setIrqLine(5, true);
            rig.vmm.interrupts().setIrqLine(5, false);
            assertEquals(1, rig.awaitReport(0xf4));
        }
    }

    static final String PIC_IRQ5_GUEST = """
            cli
            movw $handler, 0x94
            movw $0, 0x96
            mov $0x11, %al
            out %al, $0x20
            mov $0x20, %al
            out %al, $0x21
            mov $0x04, %al
            out %al, $0x21
            mov $0x01, %al
            out %al, $0x21
            mov $0xdf, %al
            out %al, $0x21
            movw $0, 0x500
            out %al, $0xf1
            sti
            1: hlt
            jmp 1b
            handler:
            push %ax
            incw 0x500
            mov 0x500, %ax
            out %ax, $0xf4
            mov $0x20, %al
            out %al, $0x20
            pop %ax
            iret
            """;

    @Test
    void ioeventfdFiresWithoutAnExitAndDatamatchFilters() throws Exception {
        try (GuestRig rig = new GuestRig(true);
                EventFd doorbell = EventFd.create(Syscalls.linux(), "doorbell")) {
            Port port = new Port(0);
            rig.vmm.pioBus().register(0x700, 1, port, "doorbell port");
            IoEventFd reg = rig.vmm.vm().ioeventfd(doorbell, 0x700, 1, true, OptionalLong.of(0x5a));
            rig.startReal("""
                    mov $0x700, %dx
                    mov $0x5a, %al
                    out %al, %dx
                    mov $0x5b, %al
                    out %al, %dx
                    out %al, $0xf0
                    1: hlt
                    jmp 1b
                    """);
            rig.awaitReport(0xf0);
            assertEquals(1, doorbell.drain(), "the matching write signalled the eventfd");
            assertEquals(1, port.writes.size(), "only the non-matching write exited to userspace");
            assertEquals(0x5b, port.writes.get(0)[2]);
            assertEquals(2, rig.thread.exitCount(KvmAbi.Exit.IO), "0x5b write and the done report");
            reg.close();
            reg.close();
        }
    }

    @Test
    void coalescedPortWritesArriveInOrderAtTheNextExitWithoutExitingThemselves() throws Exception {
        try (GuestRig rig = new GuestRig(true)) {
            CoalescedIo coalesced = rig.vmm.vm().coalescedIo();
            assumeTrue(coalesced.pioSupported(), "no KVM_CAP_COALESCED_PIO on this kernel");
            Port latch = new Port(0);
            Port data = new Port(0x77);
            rig.vmm.pioBus().register(0x710, 4, latch, "latch");
            rig.vmm.pioBus().register(0x714, 4, data, "data");
            AutoCloseable zone = coalesced.registerPio(0x710, 4);
            // 300 writes: more than the ring holds (170), so KVM must exit when it is full and the drain must wrap.
            rig.startReal("""
                    mov $0x710, %dx
                    xor %ecx, %ecx
                    1: mov %ecx, %eax
                    out %eax, %dx
                    inc %ecx
                    cmp $300, %ecx
                    jb 1b
                    mov $0x714, %dx
                    in %dx, %eax
                    out %al, $0xf0
                    2: hlt
                    jmp 2b
                    """);
            rig.awaitReport(0xf0);
            assertEquals(300, latch.writes.size(), "every coalesced write reached the handler");
            for (int i = 0; i < 300; i++) {
                assertEquals(i, latch.writes.get(i)[2], "write " + i + " in order");
                assertEquals(4, latch.writes.get(i)[1]);
            }
            assertEquals(1, data.reads.size());
            long ioExits = rig.thread.exitCount(KvmAbi.Exit.IO);
            assertTrue(ioExits <= 2 + 300 / KvmAbi.COALESCED_MMIO_MAX, "port-I/O exits: " + ioExits
                    + " (the data read, the report, and one per full ring at most)");
            zone.close();
            zone.close();
        }
    }

    /** 32-bit guest: GDT, IDT vector 0x40 handler counting at 0x500 and reporting on 0xf4, LAPIC enabled. */
    static final String LAPIC_VECTOR40_GUEST = """
            lgdt gdtr
            ljmp $0x08, $1f
            1: mov $0x10, %ax
            mov %ax, %ds
            mov %ax, %es
            mov %ax, %ss
            mov $0x7000, %esp
            mov $handler, %eax
            mov $0x3000 + 0x40 * 8, %edi
            movw %ax, (%edi)
            movw $0x08, 2(%edi)
            movw $0x8e00, 4(%edi)
            shr $16, %eax
            movw %ax, 6(%edi)
            lidt idtr
            movl $0x1ff, 0xfee000f0
            movl $0, 0x500
            out %al, $0xf1
            2: sti
            hlt
            jmp 2b
            # No iret: on this nested host KVM emulates the instructions after the LAPIC EOI write and its
            # emulator cannot do a protected-mode iret. The handler drops its frame and rejoins the loop.
            handler:
            incl 0x500
            mov 0x500, %eax
            outl %eax, $0xf4
            movl $0, 0xfee000b0
            add $12, %esp
            jmp 2b
            .align 8
            gdt: .quad 0
            .quad 0x00cf9b000000ffff
            .quad 0x00cf93000000ffff
            gdtr: .word 23
            .long gdt
            idtr: .word 0x40 * 8 + 7
            .long 0x3000
            """;

    @Test
    void msiReachesTheGuestThroughTheLapicBySignalAndByIrqfdRoute() throws Exception {
        try (GuestRig rig = new GuestRig(true);
                EventFd trigger = EventFd.create(Syscalls.linux(), "msi vector")) {
            rig.startFlat32(LAPIC_VECTOR40_GUEST);
            rig.awaitReport(0xf1);
            MsiMessage vector40 = new MsiMessage(0xfee00000L, 0x40);
            rig.vmm.interrupts().signalMsi(vector40);
            assertEquals(1, rig.awaitReport(0xf4), "KVM_SIGNAL_MSI reached the handler");
            InterruptController.MsiRoute route = rig.vmm.interrupts().addMsiRoute(vector40);
            assertTrue(route.gsi() >= KvmInterruptController.FIRST_MSI_GSI);
            try (InterruptController.IrqFdBinding b = rig.vmm.interrupts().irqFd(trigger, route.gsi(), null)) {
                trigger.signal();
                assertEquals(2, rig.awaitReport(0xf4), "irqfd on an MSI route reached the handler");
                route.update(new MsiMessage(0xfee00000L, 0x41));
                route.update(vector40);
                trigger.signal();
                assertEquals(3, rig.awaitReport(0xf4), "still delivered after the table was rewritten");
            }
            route.close();
        }
    }

    @Test
    void stopEndsAVcpuBlockedInAnInKernelHalt() throws Exception {
        try (GuestRig rig = new GuestRig(true)) {
            rig.startReal("""
                    cli
                    out %al, $0xf0
                    1: hlt
                    jmp 1b
                    """);
            rig.awaitReport(0xf0);
            rig.thread.stop();
            assertEquals(VcpuStop.Cause.REQUESTED, rig.thread.stopped().get(20, TimeUnit.SECONDS).cause());
            assertFalse(rig.thread.stopped().get().isFailure());
        }
    }

    @Test
    void aThrowingHandlerGivesTheGuestAllOnesAndTheVcpuRunsOn() throws Exception {
        try (GuestRig rig = new GuestRig(true)) {
            rig.vmm.pioBus().register(0x30, 2, new TrapHandler() {
                @Override
                public long read(long offset, int size) {
                    throw new IllegalStateException("broken device model");
                }

                @Override
                public void write(long offset, int size, long value) {
                    throw new IllegalStateException("broken device model");
                }
            }, "broken");
            rig.startReal("""
                    out %ax, $0x30
                    in $0x30, %ax
                    out %ax, $0xf3
                    1: hlt
                    jmp 1b
                    """);
            assertEquals(0xffff, rig.awaitReport(0xf3), "all-ones from the failed read");
            assertFalse(rig.thread.stopped().isDone(), "the vCPU survived");
        }
    }

    @Test
    void dirtyLogShowsThePagesTheGuestWrote() throws Exception {
        try (GuestRig rig = new GuestRig(true);
                MemoryMapping extra = MemoryMapping.anonymous(Syscalls.linux(), 0x4000, "logged RAM")) {
            Memslot slot = rig.vmm.vm().mapMemory(0x90000, 0x4000, extra.address(),
                    KvmAbi.KVM_MEM_LOG_DIRTY_PAGES, "logged RAM");
            assertEquals(0L, slot.dirtyLog()[0], "nothing written yet");
            rig.startReal("""
                    mov $0x9000, %bx
                    mov %bx, %es
                    movl $0x600d, %es:0x2004
                    out %al, $0xf0
                    1: hlt
                    jmp 1b
                    """);
            rig.awaitReport(0xf0);
            assertEquals(0b100L, slot.dirtyLog()[0], "page 2 of the slot is dirty");
            assertEquals(0x600d, extra.getInt(0x2004));
            assertEquals(0L, slot.dirtyLog()[0], "reading the log reset it");
        }
    }

    @Test
    void resampleIrqfdKeepsTheLineUntilEoiThenSignalsResample() throws Exception {
        try (GuestRig rig = new GuestRig(true);
                EventFd trigger = EventFd.create(Syscalls.linux(), "intx");
                EventFd resample = EventFd.create(Syscalls.linux(), "intx resample")) {
            rig.vmm.interrupts().irqFd(trigger, 5, resample);
            rig.startReal(PIC_IRQ5_GUEST);
            rig.awaitReport(0xf1);
            trigger.signal();
            assertEquals(1, rig.awaitReport(0xf4));
            assertTrue(resample.await(20_000), "the guest's EOI made KVM deassert the line and signal resample");
            assertEquals(1, resample.drain());
            trigger.signal();
            assertEquals(2, rig.awaitReport(0xf4), "after resample the line can fire again");
        }
    }

    @Test
    void resetVectorRunsTheCodeAtTheTopOf4G() throws Exception {
        try (GuestRig rig = new GuestRig(true)) {
            rig.vmm.guestMemory().addRam(0xffff0000L, 0x10000, "bios");
            byte[] code = org.vfio4j.core.testing.GuestCode.assemble16("""
                    mov $0x5a, %al
                    out %al, $0xf5
                    1: hlt
                    jmp 1b
                    """, 0xfff0);
            rig.vmm.guestMemory().write(0xfffffff0L, code);
            GuestStart.resetVector(rig.vcpu);
            rig.thread = rig.vmm.start(rig.vcpu);
            assertEquals(0x5a, rig.awaitReport(0xf5), "the first instruction came from 0xfffffff0");
        }
    }
}
