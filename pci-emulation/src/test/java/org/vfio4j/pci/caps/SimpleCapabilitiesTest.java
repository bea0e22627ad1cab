package org.vfio4j.pci.caps;

import org.vfio4j.pci.config.ConfigChange;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.vfio4j.pci.config.PciRegisters.*;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.vfio4j.pci.config.ConfigSpace;
import org.vfio4j.pci.config.ConfigSpaceSize;
import org.vfio4j.pci.config.PciHeaders;
import org.vfio4j.pci.config.PciIdentity;

/** Register classes of the power management and PCI Express capabilities. */
class SimpleCapabilitiesTest {

    private static ConfigSpace endpoint() {
        return PciHeaders.type0("ep", ConfigSpaceSize.EXTENDED, PciIdentity.of(0x1af4, 0x1000, 0x020000, 0), 1);
    }

    @Test
    void pmStateIsWritableButUnsupportedStatesAreIgnored() {
        ConfigSpace cs = endpoint();
        List<ConfigChange> states = new ArrayList<>();
        PowerManagementCapability pm = new PowerManagementCapability(PowerManagementCapability.PMC_D1, true);
        int off = new CapabilityList(cs).add(pm);
        assertEquals(0x0203, cs.read(off + PCI_PM_PMC, 2), "version 1.2 with D1");
        states.addAll(cs.guestWrite(off + PCI_PM_CTRL, 2, 3));
        assertEquals(3, pm.powerState());
        states.addAll(cs.guestWrite(off + PCI_PM_CTRL, 2, 2)); // D2 not supported: ignored
        assertEquals(3, pm.powerState());
        states.addAll(cs.guestWrite(off + PCI_PM_CTRL, 2, 1));
        states.addAll(cs.guestWrite(off + PCI_PM_CTRL, 2, 0));
        assertEquals(List.of(new ConfigChange.PowerStateChanged(3), new ConfigChange.PowerStateChanged(1),
                new ConfigChange.PowerStateChanged(0)), states);
        assertEquals(PCI_PM_CTRL_NO_SOFT_RESET, cs.read(off + PCI_PM_CTRL, 2) & ~3, "No_Soft_Reset read-only");
        cs.write(off + PCI_PM_CTRL, 2, PCI_PM_CTRL_PME_ENABLE);
        assertEquals(0, cs.read(off + PCI_PM_CTRL, 2) & PCI_PM_CTRL_PME_ENABLE, "no PME support: not writable");
        cs.write(off + PCI_PM_PMC, 2, 0);
        assertEquals(0x0203, cs.read(off + PCI_PM_PMC, 2), "PMC read-only");
    }

    @Test
    void pmeStatusIsWriteOneToClear() {
        ConfigSpace cs = endpoint();
        PowerManagementCapability pm = new PowerManagementCapability(0xF800, false);
        int off = new CapabilityList(cs).add(pm);
        cs.write(off + PCI_PM_CTRL, 2, PCI_PM_CTRL_PME_ENABLE);
        pm.signalPme();
        assertEquals(PCI_PM_CTRL_PME_STATUS | PCI_PM_CTRL_PME_ENABLE, cs.read(off + PCI_PM_CTRL, 2));
        cs.write(off + PCI_PM_CTRL, 2, PCI_PM_CTRL_PME_ENABLE);
        assertEquals(PCI_PM_CTRL_PME_STATUS | PCI_PM_CTRL_PME_ENABLE, cs.read(off + PCI_PM_CTRL, 2));
        cs.write(off + PCI_PM_CTRL, 2, PCI_PM_CTRL_PME_STATUS);
        assertEquals(0, cs.read(off + PCI_PM_CTRL, 2));
    }

    @Test
    void pcieRegistersFollowTheirClasses() {
        ConfigSpace cs = endpoint();
        PciExpressCapability exp = new PciExpressCapability(PCI_EXP_TYPE_ENDPOINT, PCI_EXP_DEVCAP_FLR | 0x2, 0x0412);
        int off = new CapabilityList(cs).add(exp);
        assertEquals(0x0002, cs.read(off + PCI_EXP_FLAGS, 2), "version 2 endpoint");
        cs.write(off + PCI_EXP_DEVCAP, 4, 0);
        assertEquals(PCI_EXP_DEVCAP_FLR | 0x2, cs.read(off + PCI_EXP_DEVCAP, 4) & 0xFFFF_FFFFL);
        assertEquals(List.of(), cs.guestWrite(off + PCI_EXP_DEVCTL, 2, 0x7FFF));
        assertEquals(PciExpressCapability.DEVCTL_WRITABLE, cs.read(off + PCI_EXP_DEVCTL, 2));
        assertEquals(List.of(new ConfigChange.FunctionResetRequested()),
                cs.guestWrite(off + PCI_EXP_DEVCTL, 2, PCI_EXP_DEVCTL_BCR_FLR | 0x10), "initiate FLR");
        assertEquals(0x10, cs.read(off + PCI_EXP_DEVCTL, 2), "the FLR bit reads zero");
        cs.setWord(off + PCI_EXP_DEVSTA, 0x0035);
        cs.write(off + PCI_EXP_DEVSTA, 2, 0xFFFF);
        assertEquals(0x0030, cs.read(off + PCI_EXP_DEVSTA, 2), "error bits RW1C, the rest read-only");
        assertEquals(0x0012, cs.read(off + PCI_EXP_LNKSTA, 2) & 0x3FF, "link status reports LNKCAP speed/width");
        cs.write(off + PCI_EXP_LNKCTL, 2, 0xFFFF);
        assertEquals(PciExpressCapability.LNKCTL_WRITABLE, cs.read(off + PCI_EXP_LNKCTL, 2));
        assertThrows(IllegalArgumentException.class, () -> new PciExpressCapability(0x10, 0, 0));
    }
}
