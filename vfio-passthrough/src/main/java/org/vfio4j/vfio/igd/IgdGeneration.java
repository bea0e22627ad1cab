package org.vfio4j.vfio.igd;

import java.util.List;
import java.util.OptionalInt;

/**
 * The graphics generation of an Intel IGD from its PCI device id, and what the generation means for the two
 * stolen-memory registers: GMCH (the graphics control register at config 0x50, holding the stolen size GMS) and BDSM
 * (the stolen memory base). The device-id families are the ones QEMU's IGD support matches on (Linux's
 * {@code i915_pciids.h} lists the ids); an id outside them has no known generation and gets no stolen-memory
 * emulation, because Intel moves these fields between generations.
 */
final class IgdGeneration {
    /** Config offset of GMCH (also called GGC). */
    public static final int GMCH = 0x50;
    /** Config offset of the 32-bit BDSM of generations before 11. */
    public static final int BDSM = 0x5C;
    /** Config offset of the 64-bit BDSM of generation 11 and later. */
    public static final int BDSM_GEN11 = 0xC0;
    /** Config offset of ASLS, the OpRegion address. */
    public static final int ASLS = 0xFC;
    /** GMCH bit 1: IGD VGA disable. */
    public static final int GMCH_VGA_DISABLE = 1 << 1;
    /** BDSM bits below this hold flags (bit 0 lock); the base is 1 MiB aligned. */
    public static final long BDSM_BASE_ALIGN = 1L << 20;
    /** Where BAR0 (GTTMMADR) mirrors GMCH, on generations 6 and later. */
    public static final long BAR0_GMCH_MIRROR = 0x108040;
    /** Where BAR0 mirrors BDSM, on generations 6 and later. */
    public static final long BAR0_BDSM_MIRROR = 0x1080C0;

    private static final long MIB = 1L << 20;

    /** One family: ids whose bits under {@code mask} equal {@code match}. */
    private record Family(int mask, int match, int generation, String name) {
    }

    // Broxton/Apollo Lake (0x0a84, 0x1a84, 0x1a85, 0x5a84, 0x5a85) is matched on bits 11:1 before the
    // prefixes, because prefix 0x0a is Haswell.
    private static final List<Family> FAMILIES = List.of(
            new Family(0x0ffe, 0x0a84, 9, "Broxton/Apollo Lake"),
            new Family(0xff00, 0x0100, 6, "Sandy Bridge/Ivy Bridge"),
            new Family(0xff00, 0x0400, 7, "Haswell"),
            new Family(0xff00, 0x0a00, 7, "Haswell"),
            new Family(0xff00, 0x0c00, 7, "Haswell"),
            new Family(0xff00, 0x0d00, 7, "Haswell"),
            new Family(0xff00, 0x0f00, 7, "Valleyview/Bay Trail"),
            new Family(0xff00, 0x1600, 8, "Broadwell"),
            new Family(0xff00, 0x2200, 8, "Cherryview"),
            new Family(0xff00, 0x1900, 9, "Skylake"),
            new Family(0xff00, 0x3100, 9, "Gemini Lake"),
            new Family(0xff00, 0x5900, 9, "Kaby Lake"),
            new Family(0xff00, 0x3e00, 9, "Coffee Lake"),
            new Family(0xff00, 0x9b00, 9, "Comet Lake"),
            new Family(0xff00, 0x8a00, 11, "Ice Lake"),
            new Family(0xff00, 0x4500, 11, "Elkhart Lake"),
            new Family(0xff00, 0x4e00, 11, "Jasper Lake"),
            new Family(0xff00, 0x9a00, 12, "Tiger Lake"),
            new Family(0xff00, 0x4c00, 12, "Rocket Lake"),
            new Family(0xff00, 0x4600, 12, "Alder Lake"),
            new Family(0xff00, 0xa700, 12, "Raptor Lake"));

    private IgdGeneration() {
    }

    /** The generation of device id {@code deviceId}, or empty for an id of no known family. */
    public static OptionalInt of(int deviceId) {
        for (Family f : FAMILIES) {
            if ((deviceId & f.mask()) == f.match()) {
                return OptionalInt.of(f.generation());
            }
        }
        return OptionalInt.empty();
    }

    /** The family name of {@code deviceId} (e.g. "Coffee Lake"), or "unknown". */
    public static String family(int deviceId) {
        for (Family f : FAMILIES) {
            if ((deviceId & f.mask()) == f.match()) {
                return f.name();
            }
        }
        return "unknown";
    }

    /** The GMS field's shift in GMCH: bits 7:3 before generation 8, bits 15:8 from 8 on. */
    public static int gmsShift(int gen) {
        return gen < 8 ? 3 : 8;
    }

    /** The GMS field's mask (after shifting). */
    public static int gmsMask(int gen) {
        return gen < 8 ? 0x1f : 0xff;
    }

    /** The GMS field of {@code gmch}. */
    public static int gms(int gen, int gmch) {
        return (gmch >>> gmsShift(gen)) & gmsMask(gen);
    }

    /** {@code gmch} with its GMS field replaced by {@code gms}. */
    public static int withGms(int gen, int gmch, int gms) {
        if (!validGms(gen, gms)) {
            throw new IllegalArgumentException(String.format("GMS 0x%x is not valid on generation %d (%s)", gms, gen,
                    gen < 8 ? "0..0x10" : gen == 8 ? "0..0x40" : "0..0x40 or 0xf0..0xfe"));
        }
        return (gmch & ~(gmsMask(gen) << gmsShift(gen))) | gms << gmsShift(gen);
    }

    /** True for a GMS value the generation defines: multiples of 32 MiB, plus 4 MiB steps (0xf0..) from gen 9. */
    public static boolean validGms(int gen, int gms) {
        if (gen < 8) {
            return gms >= 0 && gms <= 0x10;
        }
        if (gen == 8) {
            return gms >= 0 && gms <= 0x40;
        }
        return (gms >= 0 && gms <= 0x40) || (gms >= 0xf0 && gms <= 0xfe);
    }

    /**
     * The data stolen memory size {@code gmch} asks for: GMS x 32 MiB, except that from generation 9 values from
     * 0xf0 count 4 MiB steps starting at 4 MiB.
     */
    public static long stolenBytes(int gen, int gmch) {
        long gms = gms(gen, gmch);
        if (gen >= 9 && gms >= 0xf0) {
            return (gms - 0xf0 + 1) * 4 * MIB;
        }
        return gms * 32 * MIB;
    }

    /** The config offset of BDSM for {@code gen}. */
    public static int bdsmOffset(int gen) {
        return gen < 11 ? BDSM : BDSM_GEN11;
    }

    /** The width of BDSM in bytes for {@code gen}: 4 before generation 11, 8 from 11 on. */
    public static int bdsmSize(int gen) {
        return gen < 11 ? 4 : 8;
    }
}
