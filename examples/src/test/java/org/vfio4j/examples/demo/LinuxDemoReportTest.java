package org.vfio4j.examples.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.vfio4j.refvmm.linux.LinuxMachine;
import org.vfio4j.refvmm.linux.devices.PowerPorts;
import org.vfio4j.vfio.pci.InterruptMode;
import org.vfio4j.vfio.pci.VfioPciCounters;

/**
 * The Linux demo's verdict on what a guest reported: the lines are those of a real run in the testbed
 * (LinuxGuestTestbedTest runs the same guest and checks the same values on the real kernel).
 */
class LinuxDemoReportTest {
    private static final List<String> GOOD = List.of("l2.booted=1", "l2.kernel=6.1.0-57-amd64", "l2.cpus=2",
            "nvme.driver=nvme", "nvme.queues=nvme0: 2/0/0 default/read/poll queues", "nvme.size_bytes=67108864",
            "nvme.pattern_md5=" + LinuxDemo.NVME_PATTERN_MD5, "nvme.write_md5=31dd0f8e2185cde35837ea93ce1924df",
            "nvme.read_md5=31dd0f8e2185cde35837ea93ce1924df", "nvme.irqs=nvme0q0:12,nvme0q1:2122,nvme0q2:45",
            "e1000e.driver=e1000e", "e1000e.ifname=eth0", "e1000e.carrier=1",
            "e1000e.ping=1000 packets transmitted, 1000 packets received", "e1000e.ping_loss=0% packet loss",
            "e1000e.irqs=eth0-rx-0:1005,eth0-tx-0:1004,eth0:1", "l2.status=0");

    private static LinuxDemo.Report report(List<String> lines, PowerPorts.Ending ending) {
        VfioPciCounters counters = new VfioPciCounters(List.of(), InterruptMode.MSIX, 3, Map.of(), 0, 0, 10, 2,
                512L << 20, null);
        return new LinuxDemo.Report(new LinuxMachine.Run(ending, "exit port", Duration.ofSeconds(60), "", lines,
                Map.of("IO", 1L)), Map.of("nvme 0000:01:00.0 at 00:01.0", counters));
    }

    private static String print(LinuxDemo.Report r) {
        StringWriter s = new StringWriter();
        r.print(new PrintWriter(s));
        return s.toString();
    }

    @Test
    void aGoodRunPasses() {
        LinuxDemo.Report r = report(GOOD, new PowerPorts.Ending(PowerPorts.Cause.EXIT_PORT, 0));
        assertEquals(List.of(), r.failures());
        String text = print(r);
        assertTrue(text.endsWith("RESULT: PASS\n"), text);
        assertTrue(text.contains("(match)") && text.contains("1000 packets received"), text);
    }

    @Test
    void eachBrokenCheckFails() {
        String[][] broken = {{"nvme.read_md5=", "nvme.read_md5=00000000000000000000000000000000"},
            {"nvme.driver=", "nvme.driver="}, {"e1000e.ping_loss=", "e1000e.ping_loss=10% packet loss"},
            {"e1000e.carrier=", "e1000e.carrier=0"}, {"nvme.pattern_md5=", "nvme.pattern_md5=x"}};
        for (String[] b : broken) {
            List<String> lines = new ArrayList<>();
            for (String l : GOOD) {
                lines.add(l.startsWith(b[0]) ? b[1] : l);
            }
            LinuxDemo.Report r = report(lines, new PowerPorts.Ending(PowerPorts.Cause.EXIT_PORT, 0));
            assertEquals(1, r.failures().size(), b[1] + ": " + r.failures());
            assertTrue(print(r).endsWith("RESULT: FAIL\n"));
        }
        LinuxDemo.Report hung = report(GOOD, null);
        assertTrue(hung.failures().get(0).contains("did not finish"), hung.failures().toString());
    }
}
