// Samples /sys/block/<dev>/inflight (reads, writes) at ~1 kHz; prints "epoch_seconds reads writes".
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>
int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1] : "/sys/block/vda/inflight";
  double secs = argc > 2 ? atof(argv[2]) : 60;
  int fd = open(path, O_RDONLY);
  if (fd < 0) { perror(path); return 1; }
  struct timespec t0, t, next;
  clock_gettime(CLOCK_REALTIME, &t0);
  clock_gettime(CLOCK_MONOTONIC, &next);
  char buf[128];
  for (;;) {
    clock_gettime(CLOCK_REALTIME, &t);
    if ((t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 > secs) break;
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) { perror("pread"); return 1; }
    buf[n] = 0;
    long r, w;
    if (sscanf(buf, "%ld %ld", &r, &w) == 2) printf("%ld.%09ld %ld %ld\n", (long) t.tv_sec, t.tv_nsec, r, w);
    next.tv_nsec += 1000000;
    if (next.tv_nsec >= 1000000000) { next.tv_nsec -= 1000000000; next.tv_sec++; }
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
  }
  return 0;
}
