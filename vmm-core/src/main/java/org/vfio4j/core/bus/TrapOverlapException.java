package org.vfio4j.core.bus;

/** A trap range was registered or moved over one that another owner holds. The message names both. */
public class TrapOverlapException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public TrapOverlapException(String message) {
        super(message);
    }
}
