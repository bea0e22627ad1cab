package org.vfio4j.vfio.platform;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.vfio4j.vfio.testing.FakeSysfs;

/**
 * The device-tree reader on the trees of a real machine: QEMU's arm {@code virt} board, written by
 * {@code qemu-system-aarch64 -machine virt,dumpdtb=FILE} without booting anything. The addresses and interrupts are
 * those of QEMU's virt memory map (hw/arm/virt.c): the PL011 UART at 0x09000000 (SPI 1), the PL061 GPIO at
 * 0x09030000 (SPI 7), both 4 KiB and level-triggered, and 32 virtio-mmio transports of 0x200 bytes from 0x0a000000
 * on SPIs 16 to 47, edge-triggered.
 */
class QemuVirtDeviceTreeTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"virt", "virt,gic-version=3"})
    void virtioMmioPl011AndPl061CorrelateWithQemusMemoryMap(String machine) throws Exception {
        DeviceTree tree = DeviceTree.parse(Tools.qemuDtb(tmp, machine));

        List<DtNode> virtio = tree.compatible("virtio,mmio").stream()
                .sorted(Comparator.comparingLong(n -> tree.describe(n).regions().get(0).address())).toList();
        assertEquals(32, virtio.size());
        String gic = tree.interruptParent(virtio.get(0)).path();
        assertTrue(gic.startsWith("/intc@8000000"), gic);
        for (int i = 0; i < 32; i++) {
            FirmwareDevice d = tree.describe(virtio.get(i));
            assertEquals(List.of(new FirmwareRegion(0, 0x0a00_0000L + 0x200L * i, 0x200, false, false)), d.regions());
            assertEquals(1, d.irqs().size());
            FirmwareIrq irq = d.irqs().get(0);
            assertEquals(32 + 16 + i, irq.number(), "GIC INTID of SPI " + (16 + i));
            assertEquals(Trigger.EDGE, irq.trigger());
            assertEquals(gic, irq.controller());
        }

        FirmwareDevice uart = tree.describe(tree.compatible("arm,pl011").get(0));
        assertEquals("device tree /pl011@9000000", uart.source());
        assertEquals(List.of("arm,pl011", "arm,primecell"), uart.compatible());
        assertEquals(List.of(new FirmwareRegion(0, 0x0900_0000L, 0x1000, false, false)), uart.regions());
        assertEquals(33, uart.irqs().get(0).number());
        assertEquals(Trigger.LEVEL, uart.irqs().get(0).trigger());
        assertFalse(uart.properties().containsKey("clocks"), "phandles of the host tree are not carried over");

        FirmwareDevice gpio = tree.describe(tree.compatible("arm,pl061").get(0));
        assertEquals(List.of(new FirmwareRegion(0, 0x0903_0000L, 0x1000, false, false)), gpio.regions());
        assertEquals(39, gpio.irqs().get(0).number());
        assertEquals(Trigger.LEVEL, gpio.irqs().get(0).trigger());
        assertTrue(gpio.properties().containsKey("gpio-controller"));
        assertEquals(List.of(2), Tools.list(tree.compatible("arm,pl061").get(0).cells("#gpio-cells").orElseThrow()));
        assertFalse(gpio.properties().containsKey("phandle"));
    }

    @Test
    void aChildOfTheGicTranslatesThroughItsEmptyRanges() throws Exception {
        DeviceTree tree = DeviceTree.parse(Tools.qemuDtb(tmp, "virt"));
        DtNode v2m = tree.compatible("arm,gic-v2m-frame").get(0);
        assertEquals("/intc@8000000/v2m@8020000", v2m.path());
        assertEquals(List.of(new FirmwareRegion(0, 0x0802_0000L, 0x1000, false, false)),
                tree.describe(v2m).regions());
    }

    @Test
    void theLiveTreeDirectoryReadsAsTheBlob() throws Exception {
        DeviceTree blob = DeviceTree.parse(Tools.qemuDtb(tmp, "virt"));
        new FakeSysfs(tmp).deviceTree(blob.root());
        DeviceTree live = DeviceTree.fromDirectory(tmp.resolve("sys/firmware/devicetree/base"));
        DtNode node = live.node("/pl061@9030000").orElseThrow();
        assertEquals(blob.describe(blob.node("/pl061@9030000").orElseThrow()).toString(),
                live.describe(node).toString());
    }

    @Test
    void theGuestDescriptionIsAnOverlayFdtoverlayApplies() throws Exception {
        byte[] base = Tools.qemuDtb(tmp, "virt");
        DeviceTree host = DeviceTree.parse(base);
        FirmwareDevice gpio = host.describe(host.compatible("arm,pl061").get(0));
        PlatformGuestDescription guest = new PlatformGuestDescription("9030000.pl061", gpio.source(),
                gpio.compatible(), List.of(new GuestRegion(0, 0x0c00_0000L, 0x1000, true, false)),
                List.of(new GuestIrq(0, 32 + 100, Trigger.LEVEL)), gpio.properties());
        byte[] overlay = FdtWriter.overlay(guest, "pl061", FdtWriter.InterruptCells.GIC, 0x8002);
        String dts = Tools.dts(tmp, overlay);
        assertTrue(dts.contains("target-path = \"/\";"), dts);

        DeviceTree merged = DeviceTree.parse(Tools.applyOverlay(tmp, base, overlay));
        DtNode node = merged.node("/pl061@c000000").orElseThrow(() -> new AssertionError(dts));
        FirmwareDevice d = merged.describe(node);
        assertEquals(List.of(new FirmwareRegion(0, 0x0c00_0000L, 0x1000, false, false)), d.regions());
        assertEquals(132, d.irqs().get(0).number());
        assertEquals(Trigger.LEVEL, d.irqs().get(0).trigger());
        assertEquals("/intc@8000000", d.irqs().get(0).controller());
        assertEquals(List.of("arm,pl061", "arm,primecell"), d.compatible());
        assertTrue(node.has("gpio-controller"));
    }
}
