/**
 * Virtual files on a bounded open-file cache, and the crash-safe overwrite.
 *
 * <ul>
 *   <li>{@link io.virtualfile.VirtualFile}: positional IO on a file handle that is not bound to a
 *       descriptor; its descriptor lives in an {@link io.virtualfile.OpenFileCache} and is reopened
 *       transparently after eviction.</li>
 *   <li>{@link io.virtualfile.VirtualFile#crashSafeOverwrite(java.nio.file.Path, java.nio.ByteBuffer)}:
 *       replaces a file so that a crash at any instant leaves the old or the new content; failures are
 *       {@link io.virtualfile.CrashSafeOverwriteException}s that name the step.</li>
 * </ul>
 *
 * <p>All public types are thread-safe. The reactive counterparts live in {@code io.virtualfile.reactive}.
 */
package io.virtualfile;
