package org.vfio4j.vfio.uapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.vfio4j.core.sys.Ioctl;
import org.vfio4j.core.testing.CProbe;

/**
 * Every constant, ioctl number, sizeof and offsetof the Java bindings define, compared with what gcc computes from the
 * installed {@code linux/vfio.h}. The Java side is enumerated by reflection, so a constant added without a C
 * counterpart fails the test instead of going unchecked.
 */
class VfioUapiHeaderTest {

    /** Constants that are not in vfio.h (PCI vendor ids live in the kernel-internal pci_ids.h). */
    private static final Map<String, Long> NOT_IN_VFIO_H = Map.of(
            "PCI_VENDOR_ID_INTEL", 0x8086L, "PCI_VENDOR_ID_NVIDIA", 0x10deL, "PCI_VENDOR_ID_IBM", 0x1014L);

    /** Java layout constant (Class.FIELD) to the C expression it must equal. */
    private static final Map<String, String> LAYOUTS = new LinkedHashMap<>();

    static {
        struct("CapHeader", "vfio_info_cap_header", "ID=id", "VERSION=version", "NEXT=next");
        struct("GroupStatus", "vfio_group_status", "ARGSZ=argsz", "FLAGS=flags");
        struct("DeviceInfo", "vfio_device_info", "ARGSZ=argsz", "FLAGS=flags", "NUM_REGIONS=num_regions",
                "NUM_IRQS=num_irqs", "CAP_OFFSET=cap_offset");
        struct("RegionInfo", "vfio_region_info", "ARGSZ=argsz", "FLAGS=flags", "INDEX=index",
                "CAP_OFFSET=cap_offset", "REGION_SIZE=size", "OFFSET=offset");
        struct("SparseMmapCap", "vfio_region_info_cap_sparse_mmap", "NR_AREAS=nr_areas", "AREAS=areas");
        element("SparseMmapCap", "vfio_region_sparse_mmap_area", "AREA_SIZE", "AREA_OFFSET=offset",
                "AREA_LENGTH=size");
        struct("TypeCap", "vfio_region_info_cap_type", "TYPE=type", "SUBTYPE=subtype");
        struct("IrqInfo", "vfio_irq_info", "ARGSZ=argsz", "FLAGS=flags", "INDEX=index", "COUNT=count");
        struct("IrqSet", "vfio_irq_set", "ARGSZ=argsz", "FLAGS=flags", "INDEX=index", "START=start",
                "COUNT=count", "DATA=data");
        struct("HotResetInfo", "vfio_pci_hot_reset_info", "ARGSZ=argsz", "FLAGS=flags", "COUNT=count",
                "DEVICES=devices");
        element("HotResetInfo", "vfio_pci_dependent_device", "DEVICE_SIZE", "DEVICE_GROUP_ID=group_id",
                "DEVICE_SEGMENT=segment", "DEVICE_BUS=bus", "DEVICE_DEVFN=devfn");
        struct("HotReset", "vfio_pci_hot_reset", "ARGSZ=argsz", "FLAGS=flags", "COUNT=count",
                "GROUP_FDS=group_fds");
        struct("Type1Info", "vfio_iommu_type1_info", "ARGSZ=argsz", "FLAGS=flags", "IOVA_PGSIZES=iova_pgsizes",
                "CAP_OFFSET=cap_offset");
        struct("IovaRangeCap", "vfio_iommu_type1_info_cap_iova_range", "NR_IOVAS=nr_iovas",
                "IOVA_RANGES=iova_ranges");
        element("IovaRangeCap", "vfio_iova_range", "RANGE_SIZE", "RANGE_START=start", "RANGE_END=end");
        struct("MigrationCap", "vfio_iommu_type1_info_cap_migration", "FLAGS=flags",
                "PGSIZE_BITMAP=pgsize_bitmap", "MAX_DIRTY_BITMAP_SIZE=max_dirty_bitmap_size");
        struct("DmaAvailCap", "vfio_iommu_type1_info_dma_avail", "AVAIL=avail");
        struct("DmaMap", "vfio_iommu_type1_dma_map", "ARGSZ=argsz", "FLAGS=flags", "VADDR=vaddr", "IOVA=iova",
                "MAP_SIZE=size");
        struct("DeviceIoEventFd", "vfio_device_ioeventfd", "ARGSZ=argsz", "FLAGS=flags", "OFFSET=offset",
                "DATA=data", "FD=fd");
        struct("DmaUnmap", "vfio_iommu_type1_dma_unmap", "ARGSZ=argsz", "FLAGS=flags", "IOVA=iova",
                "UNMAP_SIZE=size");
    }

    private static void struct(String javaClass, String cStruct, String... fields) {
        LAYOUTS.put(javaClass + ".SIZE", "sizeof(struct " + cStruct + ")");
        for (String f : fields) {
            String[] kv = f.split("=");
            LAYOUTS.put(javaClass + "." + kv[0], "offsetof(struct " + cStruct + ", " + kv[1] + ")");
        }
    }

    private static void element(String javaClass, String cStruct, String sizeField, String... fields) {
        LAYOUTS.put(javaClass + "." + sizeField, "sizeof(struct " + cStruct + ")");
        for (String f : fields) {
            String[] kv = f.split("=");
            LAYOUTS.put(javaClass + "." + kv[0], "offsetof(struct " + cStruct + ", " + kv[1] + ")");
        }
    }

    @Test
    void constantsMatchTheHeader() throws Exception {
        Map<String, Long> java = new LinkedHashMap<>();
        Map<String, String> expr = new LinkedHashMap<>();
        for (Field f : constants(VfioConstants.class)) {
            long v = f.getInt(null); // sign-extended like the C int (1 << 31 is INT_MIN there too)
            if (NOT_IN_VFIO_H.containsKey(f.getName())) {
                assertEquals(NOT_IN_VFIO_H.get(f.getName()), v, f.getName());
                continue;
            }
            java.put(f.getName(), v);
            expr.put(f.getName(), f.getName());
        }
        assertTrue(java.size() >= 84, "expected the whole constant set, got " + java.size());
        assertEquals(java, CProbe.evaluate(List.of("linux/vfio.h"), expr));
    }

    @Test
    void ioctlNumbersMatchTheHeader() throws Exception {
        Map<String, Long> java = new LinkedHashMap<>();
        Map<String, String> expr = new LinkedHashMap<>();
        for (Field f : VfioIoctls.class.getFields()) {
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
        assertEquals(20, java.size(), "18 ioctls plus VFIO_TYPE and VFIO_BASE");
        assertEquals(java, CProbe.evaluate(List.of("linux/vfio.h"), expr));
    }

    @Test
    void layoutsMatchTheHeader() throws Exception {
        Map<String, Long> java = new LinkedHashMap<>();
        List<String> unchecked = new ArrayList<>();
        for (Class<?> c : VfioLayouts.class.getClasses()) {
            for (Field f : constants(c)) {
                String key = c.getSimpleName() + "." + f.getName();
                if (!LAYOUTS.containsKey(key)) {
                    unchecked.add(key);
                }
                java.put(key, (long) f.getInt(null));
            }
        }
        assertEquals(List.of(), unchecked, "layout constants without a C expression in this test");
        Map<String, String> expr = new LinkedHashMap<>();
        for (String key : java.keySet()) {
            expr.put(key, LAYOUTS.get(key));
        }
        assertEquals(LAYOUTS.keySet(), java.keySet(), "C expressions without a Java constant");
        assertEquals(java, CProbe.evaluate(List.of("linux/vfio.h"), expr));
    }

    private static List<Field> constants(Class<?> c) {
        List<Field> out = new ArrayList<>();
        for (Field f : c.getFields()) {
            int m = f.getModifiers();
            if (Modifier.isStatic(m) && Modifier.isFinal(m) && f.getType() == int.class) {
                out.add(f);
            }
        }
        return out;
    }
}
