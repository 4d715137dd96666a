# CPU per read (in copies) of asyncVirtualFile and its baseline, per profiled run and as medians, with the categories.
# Usage: python3 uring-reads-cputable.py <output dir of uring-reads-profrounds.sh>
import sys, glob, os, re, statistics, collections
import importlib.util
spec = importlib.util.spec_from_file_location('categories', os.path.join(os.path.dirname(os.path.abspath(__file__)), 'uring-reads-categories.py'))
categories = importlib.util.module_from_spec(spec); spec.loader.exec_module(categories)
per_read = categories.per_read
O = sys.argv[1]
rows = []; ratios = collections.defaultdict(list); ratios_nf = collections.defaultdict(list); cats = collections.defaultdict(lambda: collections.defaultdict(list))
for d in sorted(glob.glob(O + '/prof-r*')):
    r, v, n = os.path.basename(d).split('-')[1:]
    base = 'blockingFileChannel' if n == 'n1' else 'blockingFileChannelOnAllCores'
    try:
        a, ac = per_read(glob.glob(d + '/*asyncVirtualFile*/collapsed-cpu.csv')[0])
        b, bc = per_read(glob.glob(d + f'/*.{base}-*/collapsed-cpu.csv')[0])
    except IndexError: continue
    ratios[(v, n)].append(a / b)
    nf = (a - ac.get('page faults', 0)) / (b - bc.get('page faults', 0))
    ratios_nf[(v, n)].append(nf)
    for k, x in ac.items(): cats[(v, n)][k].append(x)
    for k, x in bc.items(): cats[('baseline ' + base, n)][k].append(x)
    rows.append(f'| {r[1:]} | {v} | {n[1:]} | {a:.2f} | {b:.2f} | {a/b:.2f} | {nf:.2f} |')
print('| round | build | inFlight | asyncVirtualFile, copies per read | baseline, copies per read | ratio | ratio without page faults |')
print('|---|---|--:|--:|--:|--:|--:|')
for x in rows: print(x)
print()
print('| build | inFlight | CPU ratios per round | median | without page faults, per round | median |')
print('|---|--:|---|--:|---|--:|')
for (v, n), rs in sorted(ratios.items(), key=lambda kv: (kv[0][1], kv[0][0])):
    nfs = ratios_nf[(v, n)]
    print(f"| {v} | {n[1:]} | {', '.join(f'{x:.2f}' for x in rs)} | {statistics.median(rs):.2f} | {', '.join(f'{x:.2f}' for x in nfs)} | {statistics.median(nfs):.2f} |")
print()
keys = ['read syscall (kernel+libc+stub)', 'java/user', 'context switch', 'io_uring_enter, eventfd', 'park/unpark (futex)', 'page faults', 'other kernel']
print('| build | inFlight | ' + ' | '.join(keys) + ' |')
print('|---|--:|' + '--:|' * len(keys))
for (v, n), cc in sorted(cats.items(), key=lambda kv: (kv[0][1], kv[0][0])):
    print(f'| {v} | {n[1:]} | ' + ' | '.join(f'{statistics.median(cc[k]):.2f}' if cc[k] else '0' for k in keys) + ' |')
