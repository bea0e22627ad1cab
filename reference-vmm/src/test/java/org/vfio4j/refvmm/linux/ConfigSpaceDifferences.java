package org.vfio4j.refvmm.linux;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The guest-visible config-space differences between vfio4j and QEMU's vfio-pci that docs/config-space.md lists
 * (section "vfio4j and QEMU vfio-pci, side by side"): rows {@code | function | offsets | register | why |} where
 * function is edu, nvme, e1000e or all, and offsets a hex offset or range ({@code 0x10-0x27}). A byte that differs
 * and no row covers is unexplained.
 */
final class ConfigSpaceDifferences {
    static final String SECTION = "## vfio4j and QEMU vfio-pci, side by side";
    private static final Pattern ROW = Pattern.compile(
            "^\\|\\s*(\\w+)\\s*\\|\\s*(0x[0-9a-fA-F]+)(?:\\s*-\\s*(0x[0-9a-fA-F]+))?\\s*\\|([^|]*)\\|([^|]*)\\|\\s*$");

    private ConfigSpaceDifferences() {
    }

    /** One documented difference: bytes [first, last] of {@code function}'s config space. */
    record Difference(String function, int first, int last, String register, String why) {
        boolean covers(String f, int offset) {
            return (function.equals("all") || function.equals(f)) && offset >= first && offset <= last;
        }
    }

    /** The rows of the section. */
    static List<Difference> documented(Path doc) throws IOException {
        List<Difference> out = new ArrayList<>();
        boolean in = false;
        for (String line : Files.readAllLines(doc)) {
            if (line.startsWith("## ")) {
                in = line.trim().equals(SECTION);
                continue;
            }
            Matcher m = in ? ROW.matcher(line) : null;
            if (m != null && m.matches()) {
                int first = Integer.decode(m.group(2));
                int last = m.group(3) == null ? first : Integer.decode(m.group(3));
                out.add(new Difference(m.group(1), first, last, m.group(4).trim(), m.group(5).trim()));
            }
        }
        return out;
    }

    /** The differing byte ranges of {@code function} that no row covers, as readable lines. */
    static List<String> unexplained(String function, byte[] ours, byte[] theirs, List<Difference> listed) {
        List<String> out = new ArrayList<>();
        int n = Math.max(ours.length, theirs.length);
        int start = -1;
        for (int i = 0; i <= n; i++) {
            boolean bad = i < n && byteAt(ours, i) != byteAt(theirs, i) && !covered(function, i, listed);
            if (bad && start < 0) {
                start = i;
            } else if (!bad && start >= 0) {
                out.add(String.format("%s 0x%03x-0x%03x: vfio4j %s, qemu %s", function, start, i - 1,
                        hex(ours, start, i), hex(theirs, start, i)));
                start = -1;
            }
        }
        return out;
    }

    private static boolean covered(String function, int offset, List<Difference> listed) {
        for (Difference d : listed) {
            if (d.covers(function, offset)) {
                return true;
            }
        }
        return false;
    }

    private static int byteAt(byte[] b, int i) {
        return i < b.length ? b[i] & 0xff : -1;
    }

    private static String hex(byte[] b, int from, int to) {
        StringBuilder sb = new StringBuilder();
        for (int i = from; i < to && i < b.length; i++) {
            sb.append(String.format("%02x", b[i] & 0xff));
        }
        return sb.length() == 0 ? "(absent)" : sb.toString();
    }
}
