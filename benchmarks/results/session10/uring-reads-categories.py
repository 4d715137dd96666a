# Categories of CPU samples for the RandomReadBenchmark profiles (async-profiler, collapsed stacks):
# per read, in units of the one 4 KiB copy every read makes (_copy_to_iter). Usage: python3 uring-reads-categories.py <collapsed-cpu.csv>...
import sys, collections
def cat_of(fr):
    s = ';'.join(fr)
    if ('Native.preadv2' in s or 'pread0' in s or 'do_preadv_[k]' in s or 'pread64' in s
        or 'preadv2' in s or (fr[-1] == 'syscall' and 'Native.syscall' not in s and 'eventfd' not in s.lower())
        or ('syscall;entry_SYSCALL' in s and 'Native.syscall' not in s and 'ioUringEnter' not in s and 'InlineReads' in s)):
        return 'read syscall (kernel+libc+stub)'
    if 'finish_task_switch' in s or '__schedule' in s: return 'context switch'
    if 'futex' in s or 'Unsafe.park' in s or 'Unsafe.unpark' in s: return 'park/unpark (futex)'
    if 'io_uring' in s or 'eventfd' in s or 'Ring.submit' in s or 'ioUringEnter' in s: return 'io_uring_enter, eventfd'
    if 'page_fault' in s: return 'page faults'
    if fr[-1].endswith('_[k]'): return 'other kernel'
    return 'java/user'
def per_read(f):
    """CPU per read of one profile, in copies, and by category."""
    tot = copy = 0; c = collections.Counter()
    for l in open(f):
        st, n = l.rsplit(' ', 1); n = int(n)
        if 'RandomReadBenchmark' not in st and 'RingLoop' not in st: continue
        fr = st.split(';'); tot += n
        if '_copy_to_iter' in st: copy += n
        c[cat_of(fr)] += n
    return tot / copy, {k: v / copy for k, v in c.items()}
if __name__ == '__main__':
    for f in sys.argv[1:]:
        total, c = per_read(f)
        name = f.split('RandomReadBenchmark.')[1].split('/')[0]
        print(f'{name:50s} {total:.2f} copies/read: ' + ', '.join(f'{k} {v:.2f}' for k, v in sorted(c.items(), key=lambda kv: -kv[1])))
