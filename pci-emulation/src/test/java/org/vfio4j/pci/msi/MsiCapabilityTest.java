package org.vfio4j.pci.msi;

import org.vfio4j.pci.config.ConfigChange;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vfio4j.pci.config.PciRegisters.*;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.vfio4j.core.irq.MsiMessage;
import org.vfio4j.pci.caps.CapabilityList;
import org.vfio4j.pci.config.ConfigSpace;
import org.vfio4j.pci.config.ConfigSpaceSize;
import org.vfio4j.pci.config.PciHeaders;
import org.vfio4j.pci.config.PciIdentity;

/** MSI register classes (PCI 3.0 section 6.8.1) and delivery with masking. */
class MsiCapabilityTest {
    private final List<MsiMessage> sent = new ArrayList<>();

    private ConfigSpace cs;
    private int off;

    private MsiCapability install(int vectors, boolean is64, boolean mask) {
        cs = PciHeaders.type0("msi-dev", ConfigSpaceSize.CONVENTIONAL, PciIdentity.of(1, 2, 0x020000, 0), 1);
        MsiCapability msi = new MsiCapability(vectors, is64, mask, sent::add);
        off = new CapabilityList(cs).add(msi);
        return msi;
    }

    @ParameterizedTest(name = "64-bit={0} mask={1}")
    @CsvSource({"false,false,10", "true,false,14", "false,true,20", "true,true,24"})
    void layoutAndLengthFollowTheCapableBits(boolean is64, boolean mask, int length) {
        MsiCapability msi = install(8, is64, mask);
        assertEquals(length, msi.length());
        int flags = (int) cs.read(off + PCI_MSI_FLAGS, 2);
        assertEquals(3 << 1, flags & PCI_MSI_FLAGS_QMASK, "8 vectors capable");
        assertEquals(is64, (flags & PCI_MSI_FLAGS_64BIT) != 0);
        assertEquals(mask, (flags & PCI_MSI_FLAGS_MASKBIT) != 0);
        cs.write(off + PCI_MSI_FLAGS, 2, 0xFFFF);
        assertEquals(PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE,
                cs.read(off + PCI_MSI_FLAGS, 2) & ~(PCI_MSI_FLAGS_QMASK | PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT),
                "only enable and multiple message enable are writable");
        cs.write(off + PCI_MSI_ADDRESS_LO, 4, 0xFFFF_FFFFL);
        assertEquals(0xFFFF_FFFCL, cs.read(off + PCI_MSI_ADDRESS_LO, 4), "address bits 1:0 hardwired zero");
        int data = off + (is64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32);
        cs.write(data, 4, 0xFFFF_FFFFL);
        assertEquals(0xFFFF, cs.read(data, 4), "16-bit data; extended data not implemented");
        if (is64) {
            cs.write(off + PCI_MSI_ADDRESS_HI, 4, 0xFFFF_FFFFL);
            assertEquals(0xFFFF_FFFFL, cs.read(off + PCI_MSI_ADDRESS_HI, 4));
        }
        if (mask) {
            int m = off + (is64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32);
            cs.write(m, 4, 0xFFFF_FFFFL);
            assertEquals(0xFF, cs.read(m, 4), "mask bits exist for implemented vectors only");
            cs.write(m + 4, 4, 0xFFFF_FFFFL);
            assertEquals(0, cs.read(m + 4, 4), "pending bits are read-only");
        }
    }

    @Test
    void triggerIsDroppedWhileDisabledAndSentWhenEnabled() {
        MsiCapability msi = install(1, true, false);
        assertFalse(msi.trigger(0));
        cs.write(off + PCI_MSI_ADDRESS_LO, 4, 0xFEE0_1000L);
        cs.write(off + PCI_MSI_ADDRESS_HI, 4, 0);
        cs.write(off + PCI_MSI_DATA_64, 2, 0x4041);
        cs.write(off + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE);
        assertTrue(msi.trigger(0));
        assertFalse(msi.trigger(1), "only one vector enabled");
        assertEquals(List.of(new MsiMessage(0xFEE0_1000L, 0x4041)), sent);
    }

    @Test
    void multipleMessagesPutTheVectorInTheLowDataBits() {
        MsiCapability msi = install(8, false, false);
        cs.write(off + PCI_MSI_ADDRESS_LO, 4, 0xFEE0_0000L);
        cs.write(off + PCI_MSI_DATA_32, 2, 0x0040);
        cs.write(off + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE | (2 << 4)); // 4 vectors enabled
        assertEquals(4, msi.state().enabledVectors());
        assertTrue(msi.trigger(3));
        assertFalse(msi.trigger(4), "vector beyond the enabled count");
        assertEquals(0x0043, sent.get(0).data());
        cs.write(off + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE | (7 << 4));
        assertEquals(8, msi.state().enabledVectors(), "a multiple-message-enable above capable is capped");
    }

    @Test
    void aMaskedVectorPendsAndFiresOnUnmask() {
        MsiCapability msi = install(4, true, true);
        List<String> events = new ArrayList<>();
        java.util.function.Consumer<List<ConfigChange>> record = changes -> changes.forEach(c -> events.add(
                c instanceof ConfigChange.MsiChanged m ? "cfg " + m.state().enabled() + " " + m.state().enabledVectors()
                : c instanceof ConfigChange.MsiVectorMaskChanged v ? "mask " + v.vector() + " " + v.masked()
                : c.toString()));
        record.accept(cs.guestWrite(off + PCI_MSI_ADDRESS_LO, 4, 0xFEE0_0000L));
        record.accept(cs.guestWrite(off + PCI_MSI_DATA_64, 2, 0x0020));
        record.accept(cs.guestWrite(off + PCI_MSI_MASK_64, 4, 0x2));
        record.accept(cs.guestWrite(off + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE | (2 << 4)));
        assertFalse(msi.trigger(1));
        assertEquals(0x2, msi.pendingBits());
        assertEquals(0x2, cs.read(off + PCI_MSI_PENDING_64, 4), "guest sees the pending bit");
        assertTrue(sent.isEmpty());
        record.accept(cs.guestWrite(off + PCI_MSI_MASK_64, 4, 0));
        assertEquals(List.of(new MsiMessage(0xFEE0_0000L, 0x21)), sent);
        assertEquals(0, msi.pendingBits());
        assertEquals(List.of("cfg false 1", "cfg false 1", "mask 1 true", "cfg true 4", "mask 1 false"), events,
                "address and data writes each reprogram; then mask, enable, unmask");
    }

    @Test
    void vectorCountsAreValidated() {
        assertThrows(IllegalArgumentException.class, () -> new MsiCapability(3, false, false, m -> { }));
        assertThrows(IllegalArgumentException.class, () -> new MsiCapability(64, false, false, m -> { }));
    }
}
