package org.vfio4j.refvmm.linux;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** The {@code key=value} lines the L2 guest's init prints, parsed from a console. */
public final class KeyValues {
    private static final Pattern KEY = Pattern.compile("[A-Za-z0-9_.:\\-]+");

    private KeyValues() {
    }

    /** Last value per key, in first-seen order; lines that are not {@code key=value} are skipped. */
    public static Map<String, String> parse(List<String> lines) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String l : lines) {
            int eq = l.indexOf('=');
            if (eq > 0 && KEY.matcher(l.substring(0, eq)).matches()) {
                out.put(l.substring(0, eq), l.substring(eq + 1));
            }
        }
        return out;
    }
}
