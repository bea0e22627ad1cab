package org.vfio4j.vfio.iommufd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.vfio4j.core.kvm.KvmAbi;
import org.vfio4j.core.sys.Ioctl;
import org.vfio4j.core.testing.CProbe;

/**
 * Every constant, ioctl number, sizeof and offsetof of the iommufd / cdev bindings, compared with what gcc computes
 * from the uapi headers of the testbed's "next" kernel (6.12; the host's linux-libc-dev is 6.1 and has no
 * linux/iommufd.h). The Java side is enumerated by reflection, so a constant added without a C counterpart fails.
 * Skipped when that kernel has not been built on this machine (testbed/kernel/build).
 */
class IommufdUapiHeaderTest {
    private static final List<String> HEADERS = List.of("linux/iommufd.h", "linux/vfio.h", "linux/kvm.h");
    private static final Map<String, String> LAYOUTS = new LinkedHashMap<>();
    private static Path includes;

    static {
        struct("Destroy", "iommu_destroy", "STRUCT_SIZE=size", "ID=id");
        struct("IoasAlloc", "iommu_ioas_alloc", "STRUCT_SIZE=size", "FLAGS=flags", "OUT_IOAS_ID=out_ioas_id");
        struct("IovaRanges", "iommu_ioas_iova_ranges", "STRUCT_SIZE=size", "IOAS_ID=ioas_id",
                "NUM_IOVAS=num_iovas", "ALLOWED_IOVAS=allowed_iovas", "OUT_IOVA_ALIGNMENT=out_iova_alignment");
        LAYOUTS.put("IovaRanges.RANGE_SIZE", "sizeof(struct iommu_iova_range)");
        LAYOUTS.put("IovaRanges.RANGE_START", "offsetof(struct iommu_iova_range, start)");
        LAYOUTS.put("IovaRanges.RANGE_LAST", "offsetof(struct iommu_iova_range, last)");
        struct("IoasMap", "iommu_ioas_map", "STRUCT_SIZE=size", "FLAGS=flags", "IOAS_ID=ioas_id",
                "USER_VA=user_va", "LENGTH=length", "IOVA=iova");
        struct("IoasUnmap", "iommu_ioas_unmap", "STRUCT_SIZE=size", "IOAS_ID=ioas_id", "IOVA=iova",
                "LENGTH=length");
        struct("BindIommufd", "vfio_device_bind_iommufd", "ARGSZ=argsz", "FLAGS=flags", "IOMMUFD=iommufd",
                "OUT_DEVID=out_devid");
        struct("AttachIommufdPt", "vfio_device_attach_iommufd_pt", "ARGSZ=argsz", "FLAGS=flags", "PT_ID=pt_id");
        struct("DetachIommufdPt", "vfio_device_detach_iommufd_pt", "ARGSZ=argsz", "FLAGS=flags");
    }

    private static void struct(String javaClass, String cStruct, String... fields) {
        LAYOUTS.put(javaClass + ".SIZE", "sizeof(struct " + cStruct + ")");
        for (String f : fields) {
            String[] kv = f.split("=");
            LAYOUTS.put(javaClass + "." + kv[0], "offsetof(struct " + cStruct + ", " + kv[1] + ")");
        }
    }

    @BeforeAll
    static void findHeaders() {
        includes = NextKernelHeaders.find().orElse(null);
        assumeTrue(includes != null, "the next kernel's uapi headers are not built on this machine "
                + "(testbed/kernel/build, or -Dvfio4j.kernel.headers=DIR)");
        assumeTrue(CProbe.gccAvailable(), "no gcc");
    }

    private static Map<String, Long> c(Map<String, String> expressions) throws Exception {
        return CProbe.evaluateWithIncludes(List.of(includes), HEADERS, "", expressions);
    }

    @Test
    void constantsMatchTheHeaders() throws Exception {
        Map<String, Long> java = new LinkedHashMap<>();
        Map<String, String> expr = new LinkedHashMap<>();
        for (Field f : intConstants(IommufdConstants.class)) {
            java.put(f.getName(), (long) f.getInt(null)); // sign-extended like the C int
            expr.put(f.getName(), "(int)(" + f.getName() + ")");
        }
        assertEquals(8, java.size(), "constants in IommufdConstants");
        Map<String, Long> fromC = new LinkedHashMap<>();
        c(expr).forEach((k, v) -> fromC.put(k, (long) (int) (long) v));
        assertEquals(java, fromC);
    }

    @Test
    void ioctlNumbersMatchTheHeaders() throws Exception {
        Map<String, Long> java = new LinkedHashMap<>();
        Map<String, String> expr = new LinkedHashMap<>();
        for (Field f : IommufdIoctls.class.getFields()) {
            if (!Modifier.isStatic(f.getModifiers())) {
                continue;
            }
            String key = f.getName();
            if (f.getType() == Ioctl.class) {
                Ioctl io = (Ioctl) f.get(null);
                assertEquals(key, io.name(), "the Ioctl's name must be the C macro's name");
                java.put(key, io.number());
            } else {
                java.put(key, (long) f.getInt(null));
            }
            expr.put(key, key);
        }
        assertEquals(10, java.size(), "8 ioctls plus IOMMUFD_TYPE and IOMMUFD_CMD_BASE");
        assertEquals(java, c(expr));
    }

    @Test
    void layoutsMatchTheHeaders() throws Exception {
        Map<String, Long> java = new LinkedHashMap<>();
        List<String> unchecked = new ArrayList<>();
        for (Class<?> k : IommufdLayouts.class.getClasses()) {
            for (Field f : intConstants(k)) {
                String key = k.getSimpleName() + "." + f.getName();
                if (!LAYOUTS.containsKey(key)) {
                    unchecked.add(key);
                }
                java.put(key, (long) f.getInt(null));
            }
        }
        assertEquals(List.of(), unchecked, "layout constants without a C expression in this test");
        assertEquals(LAYOUTS.keySet(), java.keySet(), "C expressions without a Java constant");
        assertEquals(java, c(LAYOUTS));
    }

    /** KvmVfioDevice.addFile/removeFile use the GROUP_ADD/DEL values; the new header's FILE names must agree. */
    @Test
    void kvmVfioFileAttributesAliasTheGroupOnes() throws Exception {
        Map<String, Long> values = c(Map.of("KVM_DEV_VFIO_FILE", "KVM_DEV_VFIO_FILE",
                "KVM_DEV_VFIO_FILE_ADD", "KVM_DEV_VFIO_FILE_ADD", "KVM_DEV_VFIO_FILE_DEL", "KVM_DEV_VFIO_FILE_DEL"));
        assertEquals(Map.of("KVM_DEV_VFIO_FILE", (long) KvmAbi.KVM_DEV_VFIO_GROUP,
                "KVM_DEV_VFIO_FILE_ADD", (long) KvmAbi.KVM_DEV_VFIO_GROUP_ADD,
                "KVM_DEV_VFIO_FILE_DEL", (long) KvmAbi.KVM_DEV_VFIO_GROUP_DEL), values);
    }

    /** The probe really reads the new headers: the host's 6.1 headers would not compile iommufd.h at all. */
    @Test
    void theHeadersAreTheNewKernels() throws Exception {
        assertTrue(includes.resolve("linux/iommufd.h").toFile().isFile(), includes.toString());
        assertEquals(0x80L, c(Map.of("base", "IOMMUFD_CMD_BASE")).get("base"));
    }

    private static List<Field> intConstants(Class<?> k) {
        List<Field> out = new ArrayList<>();
        for (Field f : k.getFields()) {
            int m = f.getModifiers();
            if (Modifier.isStatic(m) && Modifier.isFinal(m) && f.getType() == int.class) {
                out.add(f);
            }
        }
        return out;
    }
}
