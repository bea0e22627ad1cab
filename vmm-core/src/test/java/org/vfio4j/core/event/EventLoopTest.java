package org.vfio4j.core.event;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.vfio4j.core.sys.EventFd;
import org.vfio4j.core.sys.Syscalls;

/** The Netty epoll loop over real eventfds. */
class EventLoopTest {

    @Test
    void signalFromAnotherThreadRunsTheCallbackOnTheLoopAfterDraining() throws Exception {
        try (EventLoop loop = new EventLoop(1);
                EventFd fd = EventFd.create(Syscalls.linux(), "test")) {
            BlockingQueue<String> calls = new LinkedBlockingQueue<>();
            EventLoop.Registration reg = loop.register(fd, count -> calls.add(
                    Thread.currentThread().getName() + " count=" + count + " left=" + fd.drain()));
            Thread signaller = new Thread(() -> fd.signal(3), "signaller");
            signaller.start();
            signaller.join();
            String call = calls.poll(20, TimeUnit.SECONDS);
            assertNotNull(call, "callback ran");
            assertTrue(call.startsWith("vfio4j-event"), call);
            assertTrue(call.endsWith("count=3 left=0"), "the loop drained the counter before the callback: " + call);
            assertTrue(reg.isActive());
            reg.close();
            reg.close();
            assertFalse(reg.isActive());
        }
    }

    @Test
    void closingARegistrationStopsWatching() throws Exception {
        try (EventLoop loop = new EventLoop(1);
                EventFd first = EventFd.create(Syscalls.linux(), "first");
                EventFd second = EventFd.create(Syscalls.linux(), "second")) {
            BlockingQueue<String> calls = new LinkedBlockingQueue<>();
            EventLoop.Registration a = loop.register(first, c -> calls.add("first"));
            a.close();
            first.signal();
            // The loop handles a later eventfd; had it still watched the first, it would have drained it.
            loop.register(second, c -> calls.add("second"));
            second.signal();
            assertEquals("second", calls.poll(20, TimeUnit.SECONDS));
            assertEquals(1, first.drain(), "the unregistered eventfd was not read by the loop");
            assertTrue(calls.isEmpty());
        }
    }

    @Test
    void closingTheLoopEndsItsThreads() throws Exception {
        EventLoop loop = new EventLoop(2);
        try (EventFd fd = EventFd.create(Syscalls.linux(), "t")) {
            BlockingQueue<Long> calls = new LinkedBlockingQueue<>();
            loop.register(fd, calls::add);
            fd.signal();
            assertNotNull(calls.poll(20, TimeUnit.SECONDS));
        }
        loop.close();
        loop.close();
        assertFalse(Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.getName().startsWith("vfio4j-event") && t.isAlive()), "loop threads ended");
    }
}
