package org.vfio4j.core.sys;

/**
 * An ioctl request: its number and its name as the C headers spell it, so failures can say which one failed.
 * The factory methods compute numbers with the asm-generic {@code _IOC} encoding used on x86-64.
 */
public record Ioctl(String name, long number) {

    private static final int NRBITS = 8;
    private static final int TYPEBITS = 8;
    private static final int SIZEBITS = 14;
    private static final int NRSHIFT = 0;
    private static final int TYPESHIFT = NRSHIFT + NRBITS;
    private static final int SIZESHIFT = TYPESHIFT + TYPEBITS;
    private static final int DIRSHIFT = SIZESHIFT + SIZEBITS;
    private static final int NONE = 0;
    private static final int WRITE = 1;
    private static final int READ = 2;

    private static long ioc(int dir, int type, int nr, int size) {
        return ((long) dir << DIRSHIFT) | ((long) type << TYPESHIFT) | ((long) nr << NRSHIFT)
                | ((long) size << SIZESHIFT);
    }

    /** {@code _IO(type, nr)}. */
    public static Ioctl io(String name, int type, int nr) {
        return new Ioctl(name, ioc(NONE, type, nr, 0));
    }

    /** {@code _IOR(type, nr, size)}. */
    public static Ioctl ior(String name, int type, int nr, int size) {
        return new Ioctl(name, ioc(READ, type, nr, size));
    }

    /** {@code _IOW(type, nr, size)}. */
    public static Ioctl iow(String name, int type, int nr, int size) {
        return new Ioctl(name, ioc(WRITE, type, nr, size));
    }

    /** {@code _IOWR(type, nr, size)}. */
    public static Ioctl iowr(String name, int type, int nr, int size) {
        return new Ioctl(name, ioc(READ | WRITE, type, nr, size));
    }

    @Override
    public String toString() {
        return name + String.format("(0x%x)", number);
    }
}
