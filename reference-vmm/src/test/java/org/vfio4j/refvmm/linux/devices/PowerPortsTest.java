package org.vfio4j.refvmm.linux.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import org.junit.jupiter.api.Test;

class PowerPortsTest {
    @Test
    void s5PowersOffAndOtherSleepStatesDoNot() {
        PowerPorts p = new PowerPorts();
        p.acpiRegisters().write(0, 1, (3 << 2) | (1 << 5));
        assertFalse(p.ended().isDone(), "S3 is not a power-off");
        p.acpiRegisters().write(0, 1, 5 << 2);
        assertFalse(p.ended().isDone(), "without SLP_EN nothing happens");
        p.acpiRegisters().write(0, 1, (5 << 2) | (1 << 5));
        assertEquals(new PowerPorts.Ending(PowerPorts.Cause.POWER_OFF, 0), p.ended().getNow(null));
    }

    @Test
    void theExitPortCarriesTheStatusAndTheFirstEndingWins() {
        PowerPorts p = new PowerPorts();
        p.exitPort().write(0, 1, 0x107);
        p.acpiRegisters().write(2, 1, 1);
        assertEquals(new PowerPorts.Ending(PowerPorts.Cause.EXIT_PORT, 7), p.ended().getNow(null));
    }

    @Test
    void resetRegister() {
        PowerPorts p = new PowerPorts();
        p.acpiRegisters().write(2, 1, 2);
        assertFalse(p.ended().isDone());
        p.acpiRegisters().write(2, 1, 1);
        assertEquals(PowerPorts.Cause.RESET, p.ended().getNow(null).cause());
        assertEquals(0, p.acpiRegisters().read(1, 1), "sleep status reads 0");
    }
}
