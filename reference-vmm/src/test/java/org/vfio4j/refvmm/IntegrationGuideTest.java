package org.vfio4j.refvmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * docs/integration.md shows code from the Linux reference VMM; each Java block in it must be, line for line, a region
 * of LinuxMachine.java marked {@code // snippet:NAME} ... {@code // end-snippet} (so the excerpts are code that
 * compiles and runs in the testbed), and every marked region must appear in the guide.
 */
class IntegrationGuideTest {
    private static final Pattern REGION = Pattern.compile(
            "(?m)^[ \\t]*// snippet:([\\w-]+)\\n(.*?)^[ \\t]*// end-snippet\\n", Pattern.DOTALL);
    private static final Pattern BLOCK = Pattern.compile("(?m)^```java\\n(.*?)^```$", Pattern.DOTALL);

    @Test
    void everyExcerptIsAMarkedRegionOfTheReferenceVmm() throws IOException {
        Path root = Path.of("").toAbsolutePath().getParent();
        String source = Files.readString(root.resolve(
                "reference-vmm/src/main/java/org/vfio4j/refvmm/linux/LinuxMachine.java"));
        String doc = Files.readString(root.resolve("docs/integration.md"));
        List<String> regions = new ArrayList<>();
        Matcher r = REGION.matcher(source);
        while (r.find()) {
            regions.add(dedent(r.group(2)));
        }
        List<String> blocks = new ArrayList<>();
        Matcher b = BLOCK.matcher(doc);
        while (b.find()) {
            blocks.add(dedent(b.group(1)));
        }
        assertTrue(regions.size() >= 4, "marked regions in LinuxMachine.java: " + regions.size());
        assertEquals(new java.util.TreeSet<>(regions), new java.util.TreeSet<>(blocks),
                "docs/integration.md's Java blocks against LinuxMachine.java's marked regions");
        assertEquals(regions.size(), blocks.size(), "one block per marked region");
    }

    private static String dedent(String text) {
        String[] lines = text.split("\n", -1);
        int indent = Integer.MAX_VALUE;
        for (String l : lines) {
            if (!l.isBlank()) {
                indent = Math.min(indent, l.length() - l.stripLeading().length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (String l : lines) {
            sb.append(l.isBlank() ? "" : l.substring(indent)).append('\n');
        }
        return sb.toString().strip();
    }
}
