package org.vfio4j.core.util;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CloserTest {

    @Test
    void everyStepRunsAndTheFirstFailureCarriesTheOthers() {
        List<String> ran = new ArrayList<>();
        IllegalStateException first = new IllegalStateException("first");
        OutOfMemoryError second = new OutOfMemoryError("second");
        Closer closer = new Closer();
        closer.run(() -> ran.add("a"));
        closer.run(() -> {
            ran.add("b");
            throw first;
        });
        closer.close(() -> {
            ran.add("c");
            throw second;
        });
        closer.close(null);
        closer.run(() -> ran.add("d"));
        assertTrue(closer.failed());
        IllegalStateException thrown = assertThrows(IllegalStateException.class, closer::rethrow);
        assertSame(first, thrown);
        assertArrayEquals(new Throwable[] {second}, thrown.getSuppressed());
        assertEquals(List.of("a", "b", "c", "d"), ran);
    }

    @Test
    void anErrorIsThrownAsItIsAndACheckedExceptionIsWrapped() {
        Closer errors = new Closer();
        StackOverflowError error = new StackOverflowError();
        errors.run(() -> {
            throw error;
        });
        assertSame(error, assertThrows(StackOverflowError.class, errors::rethrow));

        Closer checked = new Closer();
        IOException io = new IOException("disk");
        checked.close(() -> {
            throw io;
        });
        assertSame(io, assertThrows(IllegalStateException.class, checked::rethrow).getCause());
    }

    @Test
    void nothingFailedNothingThrown() {
        Closer closer = new Closer();
        closer.run(() -> { });
        assertFalse(closer.failed());
        closer.rethrow();
    }

    @Test
    void closeAfterAFailedSetupSuppressesIntoTheSetupFailure() {
        RuntimeException setup = new RuntimeException("setup");
        RuntimeException release = new RuntimeException("release");
        List<String> closed = new ArrayList<>();
        Closer.closeAfter(setup, () -> closed.add("x"), null, () -> {
            closed.add("y");
            throw release;
        }, () -> closed.add("z"));
        assertEquals(List.of("x", "y", "z"), closed);
        assertArrayEquals(new Throwable[] {release}, setup.getSuppressed());
    }
}
