/**
 * virtualfile core: {@link io.virtualfile.VirtualFile} on a bounded {@link io.virtualfile.OpenFileCache},
 * and the crash-safe overwrite.
 *
 * <p>The machinery in {@code io.virtualfile.internal} is exported only to the reactive module, so that
 * both modules run one descriptor cache and one overwrite protocol.
 */
module io.virtualfile {
  exports io.virtualfile;
  exports io.virtualfile.internal to io.virtualfile.reactive;
}
