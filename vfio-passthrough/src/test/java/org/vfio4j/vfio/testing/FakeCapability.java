package org.vfio4j.vfio.testing;

/**
 * A capability the fake kernel puts in an INFO chain: id, version and the body that follows the 8-byte header.
 *
 * @param id capability id
 * @param version capability version
 * @param body bytes after the header
 */
public record FakeCapability(int id, int version, byte[] body) {
}
