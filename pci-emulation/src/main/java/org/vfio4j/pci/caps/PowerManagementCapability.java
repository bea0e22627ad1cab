package org.vfio4j.pci.caps;

import static org.vfio4j.pci.config.PciRegisters.*;

import java.util.List;
import org.vfio4j.pci.config.ConfigChange;
import org.vfio4j.pci.config.ConfigSpace;

/**
 * The power management capability (id 0x01, PCI Bus Power Management Interface spec 1.2).
 *
 * <p>PMC is read-only. In PMCSR the power state (bits 1:0) is writable, but a write selecting a state the function
 * does not support (D1/D2 when PMC does not advertise them) leaves the state unchanged, as the spec requires; PME
 * enable is writable when the function can generate PME; PME status is RW1C; No_Soft_Reset is read-only. A guest
 * write that changes the state returns {@link ConfigChange.PowerStateChanged} from
 * {@link ConfigSpace#guestWrite}.
 */
public final class PowerManagementCapability implements Capability {
    /** PMC: D1 support. */
    public static final int PMC_D1 = 0x0200;
    /** PMC: D2 support. */
    public static final int PMC_D2 = 0x0400;
    /** PMC: PME# from D0, D1, D2, D3hot and D3cold (bits 15:11). */
    public static final int PMC_PME_MASK = 0xF800;
    private static final int PMC_VERSION_1_2 = 3;

    private final int pmc;
    private final boolean noSoftReset;
    private ConfigSpace cs;
    private int offset;

    /**
     * @param capabilities PMC bits beyond the version ({@link #PMC_D1}, {@link #PMC_D2}, PME support bits)
     * @param noSoftReset  the function keeps its state across D3hot to D0 (PMCSR bit 3)
     */
    public PowerManagementCapability(int capabilities, boolean noSoftReset) {
        this.pmc = (capabilities & 0xFFF8) | PMC_VERSION_1_2;
        this.noSoftReset = noSoftReset;
    }

    @Override
    public int id() {
        return PCI_CAP_ID_PM;
    }

    @Override
    public int length() {
        return PCI_PM_SIZEOF;
    }

    @Override
    public void install(ConfigSpace cs, int offset) {
        this.cs = cs;
        this.offset = offset;
        cs.setWord(offset + PCI_PM_PMC, pmc);
        cs.setWord(offset + PCI_PM_CTRL, noSoftReset ? PCI_PM_CTRL_NO_SOFT_RESET : 0);
        int writable = PCI_PM_CTRL_STATE_MASK | ((pmc & PMC_PME_MASK) != 0 ? PCI_PM_CTRL_PME_ENABLE : 0);
        cs.setWritable(offset + PCI_PM_CTRL, 2, writable);
        cs.setClearOnWrite(offset + PCI_PM_CTRL, 2, (pmc & PMC_PME_MASK) != 0 ? PCI_PM_CTRL_PME_STATUS : 0);
        cs.addWriteHook(offset + PCI_PM_CTRL, 2, this::pmcsrWritten);
    }

    /** The current power state: 0 = D0 .. 3 = D3hot. */
    public int powerState() {
        return cs.getWord(offset + PCI_PM_CTRL) & PCI_PM_CTRL_STATE_MASK;
    }

    /** Device side: latch PME status (when PME is enabled the owner should also raise the wake event). */
    public void signalPme() {
        if ((pmc & PMC_PME_MASK) != 0) {
            cs.setBits(offset + PCI_PM_CTRL, 2, PCI_PM_CTRL_PME_STATUS);
        }
    }

    private List<ConfigChange> pmcsrWritten(int off, int size, long value, long before, long after) {
        int ctrl = offset + PCI_PM_CTRL;
        if (off > ctrl || off + size <= ctrl) {
            return List.of(); // the write did not reach the byte holding the state field
        }
        int shift = (ctrl - off) * 8;
        int oldState = (int) (before >>> shift) & PCI_PM_CTRL_STATE_MASK;
        int newState = (int) (after >>> shift) & PCI_PM_CTRL_STATE_MASK;
        boolean supported = newState == 0 || newState == 3
                || (newState == 1 && (pmc & PMC_D1) != 0) || (newState == 2 && (pmc & PMC_D2) != 0);
        if (!supported) {
            cs.clearBits(ctrl, 2, PCI_PM_CTRL_STATE_MASK);
            cs.setBits(ctrl, 2, oldState);
            return List.of();
        }
        return newState != oldState ? List.of(new ConfigChange.PowerStateChanged(newState)) : List.of();
    }
}
