package org.vfio4j.core.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.vfio4j.core.kvm.KvmVmm;
import org.vfio4j.core.sys.Syscalls;
import org.vfio4j.core.testing.CProbe;

/** The e820-style reservation hook: placement, the memory map it produces, and its encoding checked against the C headers. */
class MemoryReservationsTest {
    private static final long MIB = 1L << 20;
    private static final long GIB = 1L << 30;

    @Test
    void entryLayoutAndTypeCodesMatchTheHeaders() throws Exception {
        Map<String, String> expr = new LinkedHashMap<>();
        expr.put("size", "sizeof(struct boot_e820_entry)");
        expr.put("addr", "offsetof(struct boot_e820_entry, addr)");
        expr.put("len", "offsetof(struct boot_e820_entry, size)");
        expr.put("type", "offsetof(struct boot_e820_entry, type)");
        expr.put("RAM", "E820_RAM");
        expr.put("RESERVED", "E820_RESERVED");
        expr.put("ACPI", "E820_ACPI");
        expr.put("NVS", "E820_NVS");
        expr.put("UNUSABLE", "E820_UNUSABLE");
        Map<String, Long> c = CProbe.evaluate(List.of("stddef.h", "asm/bootparam.h", "asm/e820.h"), expr);
        assertEquals(E820Map.ENTRY_SIZE, c.get("size"));
        assertEquals(E820Map.ENTRY_ADDR, c.get("addr"));
        assertEquals(E820Map.ENTRY_SIZE_FIELD, c.get("len"));
        assertEquals(E820Map.ENTRY_TYPE, c.get("type"));
        for (E820Type t : E820Type.values()) {
            assertEquals(t.code(), c.get(t.name()), t.name());
        }
    }

    @Test
    void reservesFromTheTopOfRamBelowTheLimitAndCutsItOutOfTheMap() {
        try (KvmVmm vmm = KvmVmm.create(Syscalls.linux(), KvmVmm.Config.defaults())) {
            vmm.guestMemory().addRam(0, 64 * MIB, "low");
            MemoryReservations res = vmm.memoryReservations().orElseThrow();
            MemoryReservations.Reservation a = res.reserve("opregion", 0x2000, 0x1000, 4 * GIB, E820Type.NVS);
            assertEquals(new ReservedRange(64 * MIB - 0x2000, 0x2000, E820Type.NVS, "opregion"), a.range());
            MemoryReservations.Reservation b = res.reserve("stolen", 33 * MIB, MIB, 4 * GIB, E820Type.RESERVED);
            // 1 MiB aligned, ending below the OpRegion copy
            assertEquals(64 * MIB - 0x2000 - 33 * MIB & -MIB, b.range().guestAddress());
            assertTrue(b.range().guestEnd() <= a.range().guestAddress());
            assertEquals(List.of(
                    new E820Entry(0, b.range().guestAddress(), E820Type.RAM),
                    new E820Entry(b.range().guestAddress(), 33 * MIB, E820Type.RESERVED),
                    new E820Entry(b.range().guestEnd(), a.range().guestAddress() - b.range().guestEnd(),
                            E820Type.RAM),
                    new E820Entry(a.range().guestAddress(), 0x2000, E820Type.NVS)), res.e820());
            // The reservation is still RAM to the VMM: its host memory is there to be filled.
            long host = vmm.guestMemory().hostAddress(a.range().guestAddress(), 0x2000);
            assertTrue(host != 0);

            b.close();
            b.close();
            assertEquals(List.of(a.range()), res.reserved());
            assertEquals(List.of(new E820Entry(0, 64 * MIB - 0x2000, E820Type.RAM),
                    new E820Entry(64 * MIB - 0x2000, 0x2000, E820Type.NVS)), res.e820());
            a.close();
            assertEquals(List.of(new E820Entry(0, 64 * MIB, E820Type.RAM)), res.e820());
        }
    }

    @Test
    void respectsTheLimitAndTheFloorAndSaysWhyWhenNothingFits() {
        try (KvmVmm vmm = KvmVmm.create(Syscalls.linux(), KvmVmm.Config.defaults())) {
            vmm.guestMemory().addRam(0, 4 * MIB, "low");
            vmm.guestMemory().addRam(4 * GIB, 8 * MIB, "high");
            MemoryReservations res = vmm.memoryReservations().orElseThrow();
            MemoryReservations.Reservation low = res.reserve("below 4G", MIB, 0x1000, 4 * GIB, E820Type.NVS);
            assertEquals(3 * MIB, low.range().guestAddress(), "the high region is above the limit");
            MemoryReservations.Reservation anywhere = res.reserve("any", MIB, MIB, Long.MAX_VALUE,
                    E820Type.RESERVED);
            assertEquals(4 * GIB + 7 * MIB, anywhere.range().guestAddress());
            MemoryReservations.Reservation second = res.reserve("below 4G again", 2 * MIB, MIB, 4 * GIB,
                    E820Type.RESERVED);
            assertEquals(RamReservations.FLOOR, second.range().guestAddress());
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> res.reserve("too big", 0x1000, 0x1000, 4 * GIB, E820Type.NVS));
            assertTrue(e.getMessage().contains("too big") && e.getMessage().contains("0x1000"), e.getMessage());
        }
    }

    @Test
    void aSealedMapTakesNoMoreReservations() {
        try (KvmVmm vmm = KvmVmm.create(Syscalls.linux(), KvmVmm.Config.defaults())) {
            vmm.guestMemory().addRam(0, 16 * MIB, "low");
            RamReservations res = vmm.reservations();
            assertTrue(vmm.memoryReservations().orElseThrow() == res);
            MemoryReservations.Reservation before = res.reserve("at boot", 0x1000, 0x1000, 4 * GIB, E820Type.NVS);
            res.seal();
            assertTrue(res.isSealed());
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> res.reserve("hotplug", 0x1000, 0x1000, 4 * GIB, E820Type.NVS));
            assertTrue(e.getMessage().startsWith("hotplug: the guest already has its memory map"), e.getMessage());
            before.close();
            assertEquals(List.of(), res.reserved(), "releasing still works");
        }
    }

    @Test
    void encodesBootE820Entries() {
        byte[] bytes = E820Map.encode(List.of(new E820Entry(0x1000, 0x9f000, E820Type.RAM),
                new E820Entry(0xfffc0000L, 0x40000, E820Type.RESERVED)));
        ByteBuffer b = ByteBuffer.allocate(40).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(0x1000).putLong(0x9f000).putInt(1).putLong(0xfffc0000L).putLong(0x40000).putInt(2);
        assertArrayEquals(b.array(), bytes);
    }

    @Test
    void mapListsReservationsOutsideRamAndMergesNeighbours() {
        List<RamRegion> ram = List.of(new RamRegion(0, 16 * MIB, 0x7000_0000L, "a"),
                new RamRegion(16 * MIB, 16 * MIB, 0x8000_0000L, "b"));
        assertEquals(List.of(new E820Entry(0, 32 * MIB, E820Type.RAM)), E820Map.build(ram, List.of()));
        List<E820Entry> map = E820Map.build(ram, List.of(
                new ReservedRange(15 * MIB, 2 * MIB, E820Type.RESERVED, "straddles"),
                new ReservedRange(0xfed00000L, 0x1000, E820Type.RESERVED, "mmio side")));
        assertEquals(List.of(new E820Entry(0, 15 * MIB, E820Type.RAM),
                new E820Entry(15 * MIB, 2 * MIB, E820Type.RESERVED),
                new E820Entry(17 * MIB, 15 * MIB, E820Type.RAM),
                new E820Entry(0xfed00000L, 0x1000, E820Type.RESERVED)), map);
    }
}
