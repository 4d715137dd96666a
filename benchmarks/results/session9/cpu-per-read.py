import sys, glob, os, collections
# CPU per read in units of the 4 KiB copy (_copy_to_iter): samples of the threads doing the work
# (stacks with RandomReadBenchmark or RingLoop) divided by the samples in the copy; plus a breakdown.
for d in sorted(glob.glob(sys.argv[1] + '/*')):
    f = d + '/collapsed-cpu.csv'
    if not os.path.exists(f): continue
    work = copy = 0; cat = collections.Counter()
    for l in open(f):
        st, n = l.rsplit(' ', 1); n = int(n)
        if 'RandomReadBenchmark' not in st and 'RingLoop' not in st: continue
        work += n
        fr = st.split(';')
        if '_copy_to_iter' in st: copy += n
        if 'filemap_read' in st: cat['page cache read (filemap_read)'] += n
        elif 'io_uring' in st or 'eventfd' in st: cat['io_uring_enter and wake-ups'] += n
        elif 'futex' in st or 'park' in st.lower(): cat['park/unpark'] += n
        elif 'pread' in st: cat['rest of the read syscall'] += n
        else: cat['java and other'] += n
    name = os.path.basename(d).replace('io.virtualfile.benchmarks.RandomReadBenchmark.', '')
    print(f'{name:60s} work={work:7d} copy={copy:6d} cpu/read={work/max(copy,1):.2f} copies; ' +
          ', '.join(f'{k} {100*v/work:.0f}%' for k, v in cat.most_common()))
