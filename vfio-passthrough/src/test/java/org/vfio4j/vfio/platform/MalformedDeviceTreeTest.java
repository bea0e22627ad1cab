package org.vfio4j.vfio.platform;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Trees that are wrong in the ways real ones go wrong are refused with a message naming the node (and the index):
 * cell counts, truncated properties and blobs, loops in interrupt-parent, unknown phandles, addresses outside the
 * bus's ranges. The good case of each is read correctly, so the refusals are not a reader that refuses everything.
 */
class MalformedDeviceTreeTest {

    /** / with #address-cells 2 and #size-cells 2, a GIC (phandle 1, 3 cells), and the body of /soc. */
    private static byte[] tree(int socAddressCells, int[] socRanges, java.util.function.Consumer<FdtWriter> soc) {
        FdtWriter w = new FdtWriter().beginNode("");
        w.property("#address-cells", 2).property("#size-cells", 2).property("interrupt-parent", 1);
        w.beginNode("intc@8000000").property("phandle", 1).property("#interrupt-cells", 3)
                .property("interrupt-controller", new byte[0]).endNode();
        w.beginNode("soc").property("#address-cells", socAddressCells).property("#size-cells", 1);
        if (socRanges != null) {
            w.property("ranges", socRanges);
        }
        soc.accept(w);
        return w.endNode().endNode().finish();
    }

    private static DeviceTreeException refused(byte[] dtb, String node) {
        return assertThrows(DeviceTreeException.class, () -> {
            DeviceTree t = DeviceTree.parse(dtb);
            t.describe(t.node(node).orElseThrow());
        });
    }

    @Test
    void addressesAreTranslatedThroughTheBusRanges() {
        // /soc: child 0x0 maps to CPU 0x4000_0000 for 1 MiB, child 0x1000_0000 to 0x1_0000_0000 for 64 KiB.
        byte[] dtb = tree(1, new int[] {0, 0, 0x4000_0000, 0x10_0000, 0x1000_0000, 1, 0, 0x1_0000}, w -> w
                .beginNode("dev@2000").property("reg", 0x2000, 0x100, 0x1000_0010, 0x20)
                .property("interrupts", 0, 5, 4, 1, 3, 1).endNode());
        DeviceTree t = DeviceTree.parse(dtb);
        FirmwareDevice d = t.describe(t.node("/soc/dev@2000").orElseThrow());
        assertEquals(List.of(new FirmwareRegion(0, 0x4000_2000L, 0x100, false, false),
                new FirmwareRegion(1, 0x1_0000_0010L, 0x20, false, false)), d.regions());
        assertEquals(List.of(37L, 19L), d.irqs().stream().map(FirmwareIrq::number).toList());
        assertEquals(List.of(Trigger.LEVEL, Trigger.EDGE), d.irqs().stream().map(FirmwareIrq::trigger).toList());
    }

    @Test
    void aRegOutsideEveryRangeIsRefusedWithItsIndex() {
        byte[] dtb = tree(1, new int[] {0, 0, 0x4000_0000, 0x10_0000}, w -> w
                .beginNode("dev@2000").property("reg", 0x2000, 0x100, 0x20_0000, 0x10).endNode());
        DeviceTreeException e = refused(dtb, "/soc/dev@2000");
        assertTrue(e.getMessage().contains("/soc/dev@2000: reg[1]") && e.getMessage().contains("ranges"),
                e.getMessage());
    }

    @Test
    void aBusWithoutRangesCantBeTranslated() {
        byte[] dtb = tree(1, null, w -> w.beginNode("dev@2000").property("reg", 0x2000, 0x100).endNode());
        DeviceTreeException e = refused(dtb, "/soc/dev@2000");
        assertTrue(e.getMessage().contains("/soc has no ranges"), e.getMessage());
    }

    @Test
    void badCellCountsAreRefused() {
        DeviceTreeException tooMany = refused(tree(5, new int[0], w -> w.beginNode("dev@0").property("reg", 0, 0,
                0, 0, 0, 1).endNode()), "/soc/dev@0");
        assertTrue(tooMany.getMessage().contains("/soc: #address-cells is 5"), tooMany.getMessage());

        DeviceTreeException odd = refused(tree(1, new int[0], w -> w.beginNode("dev@0").property("reg", 0, 0x100,
                0x200).endNode()), "/soc/dev@0");
        assertTrue(odd.getMessage().contains("/soc/dev@0: reg has 3 cells"), odd.getMessage());

        DeviceTreeException irqs = refused(tree(1, new int[0], w -> w.beginNode("dev@0")
                .property("interrupts", 0, 5, 4, 0).endNode()), "/soc/dev@0");
        assertTrue(irqs.getMessage().contains("#interrupt-cells 3 of /intc@8000000"), irqs.getMessage());
    }

    @Test
    void truncatedPropertiesAndBlobsAreRefused() {
        DeviceTreeException prop = refused(tree(1, new int[0], w -> w.beginNode("dev@0")
                .property("reg", new byte[] {0, 0, 0, 0, 0, 1}).endNode()), "/soc/dev@0");
        assertTrue(prop.getMessage().contains("/soc/dev@0: property reg is 6 bytes"), prop.getMessage());

        DeviceTreeException ext = refused(tree(1, new int[0], w -> w.beginNode("dev@0")
                .property("interrupts-extended", 1, 0, 5, 4, 1, 0).endNode()), "/soc/dev@0");
        assertTrue(ext.getMessage().contains("interrupts-extended[1]") && ext.getMessage().contains("truncated"),
                ext.getMessage());

        byte[] good = tree(1, new int[0], w -> { });
        DeviceTreeException cut = assertThrows(DeviceTreeException.class,
                () -> DeviceTree.parse(Arrays.copyOf(good, good.length - 8)));
        assertTrue(cut.getMessage().contains("truncated"), cut.getMessage());

        byte[] badLength = good.clone();
        // The first property (#address-cells of /) claims far more bytes than the structure block holds.
        int structOff = java.nio.ByteBuffer.wrap(good).getInt(8);
        java.nio.ByteBuffer.wrap(badLength).putInt(structOff + 12, 0x7fff_0000);
        DeviceTreeException len = assertThrows(DeviceTreeException.class, () -> DeviceTree.parse(badLength));
        assertTrue(len.getMessage().contains("truncated property"), len.getMessage());

        byte[] badMagic = good.clone();
        badMagic[0] = 0;
        assertThrows(DeviceTreeException.class, () -> DeviceTree.parse(badMagic));
    }

    @Test
    void aLoopInInterruptParentIsRefused() {
        // a and b name each other as interrupt-parent and neither is a controller.
        FdtWriter w = new FdtWriter().beginNode("");
        w.property("#address-cells", 2).property("#size-cells", 2);
        w.beginNode("a").property("phandle", 10).property("interrupt-parent", 11).endNode();
        w.beginNode("b").property("phandle", 11).property("interrupt-parent", 10).endNode();
        w.beginNode("dev@0").property("interrupt-parent", 10).property("interrupts", 5).endNode();
        byte[] dtb = w.endNode().finish();
        DeviceTreeException e = refused(dtb, "/dev@0");
        assertTrue(e.getMessage().contains("loop in interrupt-parent") && e.getMessage().contains("/a -> /b"),
                e.getMessage());
    }

    @Test
    void anUnknownPhandleIsRefused() {
        byte[] dtb = tree(1, new int[0], w -> w.beginNode("dev@0").property("interrupt-parent", 99)
                .property("interrupts", 0, 1, 4).endNode());
        DeviceTreeException e = refused(dtb, "/soc/dev@0");
        assertTrue(e.getMessage().contains("phandle 99"), e.getMessage());
    }
}
