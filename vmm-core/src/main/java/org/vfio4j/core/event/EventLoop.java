package org.vfio4j.core.event;

import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoHandle;
import io.netty.channel.IoRegistration;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfio4j.core.sys.EventFd;

/**
 * Watches eventfds on a Netty 4.2 epoll loop: each eventfd is an {@link EpollIoHandle} registered on a
 * {@code MultiThreadIoEventLoopGroup(EpollIoHandler.newFactory())}. When one becomes readable the loop drains it
 * and runs its callback on the loop thread. Callbacks must not block. {@link #close()} shuts the group down and
 * waits for its threads.
 */
public final class EventLoop implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EventLoop.class);

    private final MultiThreadIoEventLoopGroup group;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final java.util.List<Thread> threads = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** A loop group of {@code threads} epoll threads named {@code vfio4j-event-N}. */
    public EventLoop(int threads) {
        DefaultThreadFactory factory = new DefaultThreadFactory("vfio4j-event", true) {
            @Override
            protected Thread newThread(Runnable r, String name) {
                Thread t = super.newThread(r, name);
                EventLoop.this.threads.add(t);
                return t;
            }
        };
        this.group = new MultiThreadIoEventLoopGroup(threads, factory, EpollIoHandler.newFactory());
    }

    /**
     * Watches {@code eventFd}: each time it is signalled the loop reads (resets) its counter and runs
     * {@code callback} with the count read. Signals that arrive together are coalesced into one call.
     *
     * <p>Waits for the registration to complete, so it must not be called from a loop callback (Netty refuses
     * blocking there with a BlockingOperationException).
     *
     * @return the registration; closing it stops watching (the eventfd stays open and owned by the caller)
     */
    public Registration register(EventFd eventFd, Callback callback) {
        if (closed.get()) {
            throw new IllegalStateException("event loop closed");
        }
        IoEventLoop loop = group.next();
        Handle handle = new Handle(eventFd, callback);
        IoRegistration reg = loop.register(handle).syncUninterruptibly().getNow();
        loop.submit(() -> reg.submit(EpollIoOps.EPOLLIN)).syncUninterruptibly();
        return new Registration(loop, reg, eventFd);
    }

    /** Runs on the loop after an eventfd was drained. */
    @FunctionalInterface
    public interface Callback {
        /** @param count the eventfd counter that was read (the number of signals coalesced, for a plain eventfd) */
        void signalled(long count);
    }

    /** The Netty view of one eventfd. */
    private static final class Handle implements EpollIoHandle {
        private final EventFd eventFd;
        private final Callback callback;
        private final io.netty.channel.unix.FileDescriptor nettyFd;

        Handle(EventFd eventFd, Callback callback) {
            this.eventFd = eventFd;
            this.callback = callback;
            // A view only: Netty never closes it, the EventFd owns the descriptor.
            this.nettyFd = new io.netty.channel.unix.FileDescriptor(eventFd.fd());
        }

        @Override
        public io.netty.channel.unix.FileDescriptor fd() {
            return nettyFd;
        }

        @Override
        public void handle(IoRegistration registration, IoEvent ioEvent) {
            long count;
            try {
                count = eventFd.drain();
            } catch (RuntimeException e) {
                LOG.error("draining {} failed; unwatching it", eventFd.name(), e);
                registration.cancel();
                return;
            }
            if (count == 0) {
                return;
            }
            try {
                callback.signalled(count);
            } catch (RuntimeException e) {
                LOG.error("callback for {} failed", eventFd.name(), e);
            }
        }

        @Override
        public void close() {
            // Nothing to release: the eventfd belongs to the caller.
        }
    }

    /** An eventfd being watched. Closing unregisters it from the loop (once) and waits until that is done. */
    public static final class Registration implements AutoCloseable {
        private final IoEventLoop loop;
        private final IoRegistration registration;
        private final EventFd eventFd;
        private final AtomicBoolean closed = new AtomicBoolean();

        Registration(IoEventLoop loop, IoRegistration registration, EventFd eventFd) {
            this.loop = loop;
            this.registration = registration;
            this.eventFd = eventFd;
        }

        /** The watched eventfd. */
        public EventFd eventFd() {
            return eventFd;
        }

        /** True while the loop watches the eventfd. */
        public boolean isActive() {
            return !closed.get() && registration.isValid();
        }

        @Override
        public void close() {
            if (!closed.compareAndSet(false, true)) {
                return;
            }
            if (loop.inEventLoop()) {
                registration.cancel();
            } else if (!loop.isShuttingDown()) {
                loop.submit(registration::cancel).syncUninterruptibly();
            }
        }
    }

    /**
     * Shuts the loop down and waits for its threads to end (the group's termination is signalled just before a
     * thread returns, so each is also joined: when this returns, none is alive). Idempotent.
     */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
            boolean interrupted = false;
            for (Thread t : threads) {
                if (t == Thread.currentThread()) {
                    continue;
                }
                try {
                    t.join(TimeUnit.SECONDS.toMillis(5));
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
