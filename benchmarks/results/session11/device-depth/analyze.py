import sys, re, statistics, bisect
d = sys.argv[1]
ts, rd = [], []
for line in open(f"{d}/inflight.txt"):
    p = line.split()
    if len(p) == 3:
        ts.append(float(p[0])); rd.append(int(p[1]))
pstart = float(open(f"{d}/perf.start").read())
perf = []  # (epoch, count)
try:
    for line in open(f"{d}/perf.txt"):
        if line.startswith('#') or not line.strip(): continue
        f = line.split(',')
        try: perf.append((pstart + float(f[0]), float(f[1])))
        except ValueError: pass
except FileNotFoundError: pass
perfa = {}
try:
    for line in open(f"{d}/perfa.txt"):
        if line.startswith('#') or not line.strip(): continue
        f = line.split(',')
        try: perfa.setdefault(f[3].split(':')[-1], []).append((pstart + float(f[0]), float(f[1])))
        except (ValueError, IndexError): pass
except FileNotFoundError: pass
def per_read(ev, a, b, rps):
    xs = [c for (t, c) in perfa.get(ev, []) if a + 1 <= t <= b]
    return sum(xs) / len(xs) / rps if xs else float('nan')
EVS = ['sys_enter_io_uring_enter', 'block_unplug', 'block_rq_issue', 'irq_handler_entry', 'softirq_entry', 'sched_switch']
pat = re.compile(r'^(\S+) run (\d+)/\d+\s+(.*?)\s+(\d+) in flight:\s+([\d,]+) reads/s')
print(f"{'run':>3} {'reader':<22} {'n':>3} {'reads/s':>9} {'mean depth':>10} {'median':>6} {'p10':>4} {'p90':>4} {'samples':>7} {'enters/read':>11} " + ' '.join(f"{e[-12:]:>12}" for e in EVS) + "  (system-wide, per read)")
for line in open(f"{d}/stdout.txt"):
    m = pat.match(line)
    if not m: continue
    T = float(m.group(1)); run = m.group(2); reader = m.group(3); n = int(m.group(4)); rps = float(m.group(5).replace(',', ''))
    a, b = T - 9.5, T - 0.7
    i, j = bisect.bisect_left(ts, a), bisect.bisect_left(ts, b)
    s = sorted(rd[i:j])
    if not s: continue
    mean = sum(s) / len(s); med = s[len(s)//2]; p10 = s[len(s)//10]; p90 = s[len(s)*9//10]
    ent = sum(c for (t, c) in perf if a + 1 <= t <= b)
    secs = sum(1 for (t, c) in perf if a + 1 <= t <= b)
    epr = ent / secs / rps if secs and reader != 'fio' else float('nan')
    print(f"{run:>3} {reader:<22} {n:>3} {rps:>9.0f} {mean:>10.2f} {med:>6} {p10:>4} {p90:>4} {len(s):>7} {epr:>11.3f} " + ' '.join(f"{per_read(e, a, b, rps):>12.3f}" for e in EVS))
