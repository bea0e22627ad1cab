package org.vfio4j.core.event;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;

/**
 * Binds one {@link EventLoop} per injector. The injector's user closes it ({@code injector.getInstance(EventLoop
 * .class).close()}) when done.
 */
public final class EventLoopModule extends AbstractModule {
    private final int threads;

    /** One loop thread: eventfd callbacks are short, and one thread keeps them ordered. */
    public EventLoopModule() {
        this(1);
    }

    /** {@code threads} loop threads. */
    public EventLoopModule(int threads) {
        this.threads = threads;
    }

    @Provides
    @Singleton
    EventLoop eventLoop() {
        return new EventLoop(threads);
    }
}
