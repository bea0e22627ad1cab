package org.vfio4j.core.sys;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.vfio4j.core.testing.CProbe;

/** The seam's flag values and errno names, compared with what the C headers and glibc say. */
class LinuxConstantsHeaderTest {

    @Test
    void flagValuesMatchTheHeaders() throws Exception {
        Map<String, Long> java = new LinkedHashMap<>();
        java.put("O_RDWR", (long) Linux.O_RDWR);
        java.put("O_NONBLOCK", (long) Linux.O_NONBLOCK);
        java.put("O_CLOEXEC", (long) Linux.O_CLOEXEC);
        java.put("PROT_READ", (long) Linux.PROT_READ);
        java.put("PROT_WRITE", (long) Linux.PROT_WRITE);
        java.put("MAP_SHARED", (long) Linux.MAP_SHARED);
        java.put("MAP_PRIVATE", (long) Linux.MAP_PRIVATE);
        java.put("MAP_FIXED", (long) Linux.MAP_FIXED);
        java.put("MAP_ANONYMOUS", (long) Linux.MAP_ANONYMOUS);
        java.put("MAP_NORESERVE", (long) Linux.MAP_NORESERVE);
        java.put("EFD_CLOEXEC", (long) Linux.EFD_CLOEXEC);
        java.put("EFD_NONBLOCK", (long) Linux.EFD_NONBLOCK);
        java.put("EFD_SEMAPHORE", (long) Linux.EFD_SEMAPHORE);
        java.put("POLLIN", (long) Linux.POLLIN);
        java.put("POLLHUP", (long) Linux.POLLHUP);
        java.put("sizeof(struct pollfd)", 8L);
        java.put("ENOSPC", (long) Errno.ENOSPC);
        java.put("EOPNOTSUPP", (long) Errno.EOPNOTSUPP);
        Map<String, String> expr = new LinkedHashMap<>();
        java.keySet().forEach(k -> expr.put(k, k));
        Map<String, Long> c = CProbe.evaluate(
                List.of("fcntl.h", "sys/mman.h", "sys/eventfd.h", "poll.h", "errno.h"), expr);
        assertEquals(java, c);
    }

    @Test
    void errnoNamesMatchGlibc() throws Exception {
        // strerrorname_np (glibc 2.32+) gives the symbolic name; compare the names by a hash of each.
        Map<String, String> expr = new LinkedHashMap<>();
        Map<String, Long> java = new LinkedHashMap<>();
        for (int e = 1; e <= 40; e++) {
            expr.put("E" + e, "hash(strerrorname_np(" + e + "))");
            java.put("E" + e, hash(Errno.name(e)));
        }
        for (int e : new int[] {61, 62, 71, 75, 95, 105, 110, 125}) {
            expr.put("E" + e, "hash(strerrorname_np(" + e + "))");
            java.put("E" + e, hash(Errno.name(e)));
        }
        Map<String, Long> c = CProbe.evaluate(List.of("string.h"),
                "static unsigned long long hash(const char *s) { unsigned long long h = 5381;"
                        + " while (*s) h = h * 33 + (unsigned char) *s++; return h; }",
                expr);
        assertEquals(java, c);
    }

    private static long hash(String s) {
        long h = 5381;
        for (char ch : s.toCharArray()) {
            h = h * 33 + ch;
        }
        return h;
    }
}
