package org.vfio4j.examples.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Runs the demo inside the testbed on its edu device (no argument: the demo finds it itself) and checks the report:
 * everything passed, the id reads were direct-mapped, the DMA checked out, the MSIs arrived through the kernel.
 */
@Tag("testbed")
class VfioDemoTestbedTest {

    @Test
    void demoPassesOnTheTestbedEdu() {
        StringWriter text = new StringWriter();
        int code = new CommandLine(new VfioDemo(new PrintWriter(text, true))).execute();
        String report = text.toString();
        System.out.println(report);
        assertEquals(0, code, report);
        assertTrue(report.contains("RESULT: PASS"), report);
        assertTrue(report.contains("1000 reads of edu's id register (0x010000ed) through the mapped BAR: 0 MMIO exits"),
                report);
        assertTrue(report.contains("mapped into the guest (no exits): [[0x0+0x100000"), report);
        assertTrue(report.contains("DMA: 2048 bytes RAM -> edu -> RAM through the IOMMU: checked out"), report);
        assertTrue(report.contains("MSI: 2 interrupts taken"), report);
        assertTrue(report.contains("interrupt mode MSI, 1 vector(s) routed in the kernel"), report);
        assertTrue(report.contains("with memory decode off: 0xffffffff"), report);
    }
}
