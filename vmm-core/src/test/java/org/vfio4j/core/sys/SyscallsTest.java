package org.vfio4j.core.sys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Memory;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real seam against the running kernel. */
class SyscallsTest {
    private final Syscalls sys = Syscalls.linux();

    @Test
    void openFailureNamesPathAndErrno() {
        SyscallException e = assertThrows(SyscallException.class,
                () -> FileDescriptor.open(sys, "/nonexistent/vfio4j", Linux.O_RDWR));
        assertEquals("open", e.call());
        assertEquals(Errno.ENOENT, e.errno());
        assertEquals("open on /nonexistent/vfio4j: ENOENT (2)", e.getMessage());
    }

    @Test
    void ioctlFailureNamesIoctlAndErrno() {
        try (FileDescriptor fd = FileDescriptor.open(sys, "/dev/null", Linux.O_RDWR)) {
            Ioctl bogus = Ioctl.io("VFIO_GET_API_VERSION", ';', 100);
            SyscallException e = assertThrows(SyscallException.class, () -> fd.ioctl(bogus, 0L));
            assertEquals(Errno.ENOTTY, e.errno());
            assertTrue(e.getMessage().startsWith("ioctl(VFIO_GET_API_VERSION) on /dev/null: ENOTTY"),
                    e.getMessage());
        }
    }

    @Test
    void preadAndPwriteRoundTripThroughAFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("data");
        Files.write(file, new byte[64]);
        try (FileDescriptor fd = FileDescriptor.open(sys, file.toString(), Linux.O_RDWR)) {
            Memory buf = new Memory(4);
            buf.setInt(0, 0x11223344);
            fd.pwriteFully(buf, 4, 8);
            Memory back = new Memory(4);
            fd.preadFully(back, 4, 8);
            assertEquals(0x11223344, back.getInt(0));
            SyscallException shortRead = assertThrows(SyscallException.class, () -> fd.preadFully(back, 4, 62));
            assertEquals(Errno.EIO, shortRead.errno());
        }
        byte[] bytes = Files.readAllBytes(file);
        assertEquals(0x44, bytes[8]);
        assertEquals(0x11, bytes[11]);
    }

    @Test
    void closeIsIdempotentAndReleasesTheFd() {
        FileDescriptor fd = FileDescriptor.open(sys, "/dev/null", Linux.O_RDONLY);
        int raw = fd.fd();
        fd.close();
        fd.close();
        assertTrue(fd.isClosed());
        assertFalse(Files.exists(Path.of("/proc/self/fd/" + raw)) && fdPointsToDevNull(raw));
    }

    private static boolean fdPointsToDevNull(int raw) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/fd/" + raw)).toString().equals("/dev/null");
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    void eventFdSignalsDrainsAndPolls() {
        try (EventFd efd = EventFd.create(sys, "test")) {
            assertFalse(efd.await(0));
            assertEquals(0, efd.drain());
            efd.signal(3);
            efd.signal();
            assertTrue(efd.await(0));
            assertEquals(4, efd.drain());
            assertFalse(efd.await(0));
        }
    }

    @Test
    void anonymousMappingIsReadableWritableAndBoundsChecked() {
        MemoryMapping m = MemoryMapping.anonymous(sys, 2 * Linux.PAGE_SIZE, "scratch");
        try {
            m.setLong(8, 0x0102030405060708L);
            assertEquals(0x05060708, m.getInt(8));
            assertThrows(IndexOutOfBoundsException.class, () -> m.getInt(2 * Linux.PAGE_SIZE - 2));
        } finally {
            m.close();
            m.close();
        }
        assertThrows(IllegalStateException.class, () -> m.getInt(0));
    }

    @Test
    void mmapFailureNamesTheFile() {
        try (FileDescriptor fd = FileDescriptor.open(sys, "/proc/self/status", Linux.O_RDONLY)) {
            SyscallException e = assertThrows(SyscallException.class, () -> fd.mmap(0, 4096, Linux.PROT_WRITE));
            assertEquals("mmap", e.call());
            assertTrue(e.target().startsWith("/proc/self/status offset 0x0 size 0x1000"), e.target());
        }
    }

    @Test
    void ioctlNumbersFollowTheAsmGenericEncoding() {
        // KVM_CREATE_VM is _IO(0xAE, 0x01) and KVM_SET_USER_MEMORY_REGION is _IOW(0xAE, 0x46, 32 bytes).
        assertEquals(0xAE01L, Ioctl.io("KVM_CREATE_VM", 0xAE, 0x01).number());
        assertEquals(0x4020AE46L, Ioctl.iow("KVM_SET_USER_MEMORY_REGION", 0xAE, 0x46, 32).number());
        assertEquals(0x8004AE98L, Ioctl.ior("x", 0xAE, 0x98, 4).number());
        assertEquals(0xC008AE05L, Ioctl.iowr("x", 0xAE, 0x05, 8).number());
    }
}
