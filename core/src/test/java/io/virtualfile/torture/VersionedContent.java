package io.virtualfile.torture;

import java.nio.ByteBuffer;
import java.util.Random;
import java.util.zip.CRC32;

/**
 * Self-checking content for the kill -9 torture: {@code version (8) | length (4) | payload | crc32 (8)}
 * where the payload is derived from the version, so a torn, mixed or zero-filled file cannot pass.
 */
public final class VersionedContent {
  private VersionedContent() {}

  public static ByteBuffer encode(long version) {
    Random r = new Random(version);
    byte[] payload = new byte[1 + r.nextInt(48 * 1024)];
    r.nextBytes(payload);
    ByteBuffer b = ByteBuffer.allocate(8 + 4 + payload.length + 8);
    b.putLong(version).putInt(payload.length).put(payload);
    CRC32 crc = new CRC32();
    crc.update(b.array(), 0, b.position());
    b.putLong(crc.getValue());
    return b.flip();
  }

  /**
   * The version in {@code bytes}, or an exception saying why they are not one complete, valid version.
   */
  public static long decode(byte[] bytes) {
    if (bytes.length < 8 + 4 + 8) {
      throw new IllegalStateException("too short for a version: " + bytes.length + " bytes");
    }
    ByteBuffer b = ByteBuffer.wrap(bytes);
    long version = b.getLong();
    int length = b.getInt();
    if (length < 0 || bytes.length != 8 + 4 + length + 8) {
      throw new IllegalStateException("length field " + length + " does not match size " + bytes.length);
    }
    CRC32 crc = new CRC32();
    crc.update(bytes, 0, 8 + 4 + length);
    b.position(8 + 4 + length);
    if (b.getLong() != crc.getValue()) {
      throw new IllegalStateException("checksum mismatch (torn or mixed content) at version " + version);
    }
    if (!ByteBuffer.wrap(bytes).equals(encode(version))) {
      throw new IllegalStateException("payload is not version " + version + "'s");
    }
    return version;
  }
}
