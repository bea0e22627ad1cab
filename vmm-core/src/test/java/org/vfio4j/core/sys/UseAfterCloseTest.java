package org.vfio4j.core.sys;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.vfio4j.core.kvm.Kvm;
import org.vfio4j.core.kvm.KvmVmm;

/** No system call on an fd number after its owner closed it (issue 15, defect 4). */
class UseAfterCloseTest {

    /** The real kernel, with every fd-taking call recorded as "call fd". */
    static final class Recording implements Syscalls {
        final Syscalls real = Syscalls.linux();
        final List<String> calls = new CopyOnWriteArrayList<>();
        volatile CountDownLatch preadEntered;
        volatile CountDownLatch preadRelease;

        @Override
        public int open(String path, int flags) {
            return real.open(path, flags);
        }

        @Override
        public int close(int fd) {
            calls.add("close " + fd);
            return real.close(fd);
        }

        @Override
        public int ioctl(int fd, long request, Pointer arg) {
            calls.add("ioctl " + fd);
            return real.ioctl(fd, request, arg);
        }

        @Override
        public int ioctl(int fd, long request, long arg) {
            calls.add("ioctl " + fd);
            return real.ioctl(fd, request, arg);
        }

        @Override
        public long mmap(long addr, long length, int prot, int flags, int fd, long offset) {
            return real.mmap(addr, length, prot, flags, fd, offset);
        }

        @Override
        public int munmap(long addr, long length) {
            return real.munmap(addr, length);
        }

        @Override
        public long pread(int fd, Pointer buf, long count, long offset) {
            calls.add("pread " + fd);
            CountDownLatch in = preadEntered;
            if (in != null) {
                in.countDown();
                try {
                    preadRelease.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return real.pread(fd, buf, count, offset);
        }

        @Override
        public long pwrite(int fd, Pointer buf, long count, long offset) {
            calls.add("pwrite " + fd);
            return real.pwrite(fd, buf, count, offset);
        }

        @Override
        public int eventfd(int initialValue, int flags) {
            return real.eventfd(initialValue, flags);
        }

        @Override
        public long read(int fd, Pointer buf, long count) {
            calls.add("read " + fd);
            return real.read(fd, buf, count);
        }

        @Override
        public long write(int fd, Pointer buf, long count) {
            calls.add("write " + fd);
            return real.write(fd, buf, count);
        }

        @Override
        public int poll(Pointer fds, int nfds, int timeoutMillis) {
            return real.poll(fds, nfds, timeoutMillis);
        }

        @Override
        public int gettid() {
            return real.gettid();
        }

        @Override
        public int getpid() {
            return real.getpid();
        }

        @Override
        public int tgkill(int tgid, int tid, int signal) {
            return real.tgkill(tgid, tid, signal);
        }

        @Override
        public int sigaction(int signal, Pointer action, Pointer oldAction) {
            return real.sigaction(signal, action, oldAction);
        }
    }

    @Test
    void aClosedDescriptorMakesNoSystemCall() {
        Recording sys = new Recording();
        FileDescriptor fd = FileDescriptor.open(sys, "/dev/null", Linux.O_RDWR);
        int number = fd.fd();
        fd.close();
        sys.calls.clear();
        Memory buf = new Memory(8);
        SyscallException e = assertThrows(SyscallException.class, () -> fd.ioctl(new Ioctl("TEST", 0x5401), 0L));
        assertEquals(Errno.EBADF, e.errno());
        assertThrows(SyscallException.class, () -> fd.preadFully(buf, 8, 0));
        assertEquals(-Errno.EBADF, fd.preadRaw(buf, 8, 0));
        assertEquals(-Errno.EBADF, fd.pwriteRaw(buf, 8, 0));
        assertEquals(-Errno.EBADF, fd.ioctlRaw(new Ioctl("TEST", 0x5401), 0L));
        assertEquals(List.of(), sys.calls, "fd " + number + " is free for someone else; nothing may touch it");
    }

    @Test
    void closeDuringACallClosesTheNumberOnlyWhenTheCallReturns() throws Exception {
        Recording sys = new Recording();
        FileDescriptor fd = FileDescriptor.open(sys, "/dev/zero", Linux.O_RDWR);
        sys.preadEntered = new CountDownLatch(1);
        sys.preadRelease = new CountDownLatch(1);
        Memory buf = new Memory(8);
        long[] result = new long[1];
        Thread reader = new Thread(() -> result[0] = fd.preadRaw(buf, 8, 0));
        reader.start();
        sys.preadEntered.await();
        sys.preadEntered = null;
        fd.close();
        assertTrue(fd.isClosed(), "closed for new calls at once");
        assertFalse(sys.calls.contains("close " + fd.fd()), "but the number stays open under the running pread");
        sys.preadRelease.countDown();
        reader.join();
        assertEquals(8, result[0], "the pread in flight completed on the file it started on");
        assertEquals(1, sys.calls.stream().filter(c -> c.equals("close " + fd.fd())).count(),
                "closed exactly once, when the last call left");
    }

    @Test
    void aClosedVmNeitherInjectsNorTouchesItsOldFdNumber() {
        assumeTrue(Kvm.available(), "/dev/kvm not available");
        Recording sys = new Recording();
        KvmVmm a = KvmVmm.create(sys, KvmVmm.Config.defaults());
        int aFd = Integer.parseInt(a.vm().toString().replaceAll(".*\\(fd (\\d+).*", "$1"));
        a.close();
        try (KvmVmm b = KvmVmm.create(Syscalls.linux(), KvmVmm.Config.defaults())) {
            // b may well have a's old number: an MSI through a would land in b.
            sys.calls.clear();
            assertFalse(a.vm().signalMsi(0xfee00000L, 0x30), "a closed VM delivers nothing");
            a.vm().irqLine(5, true);
            a.interrupts().signalMsi(new org.vfio4j.core.irq.MsiMessage(0xfee00000L, 0x31));
            assertEquals(List.of(), sys.calls.stream().filter(c -> c.endsWith(" " + aFd)).toList(),
                    "no call on the freed number " + aFd + " (b's VM fd: " + b.vm() + ")");
        }
    }
}
