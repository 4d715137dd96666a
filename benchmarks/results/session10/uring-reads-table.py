# Wall-clock table of uring-reads-rounds.sh output: per run, and the ratios and their medians. Usage: python3 uring-reads-table.py <dir>
import json, sys, glob, os, re, statistics, collections
O = sys.argv[1]
loads = {}
for l in open(O + '/load.txt'):
    m = re.match(r'(r\d) (\S+) (n\d+) start (\S+) load (\S+)', l)
    if m: loads[(m[1], m[2], m[3])] = (m[4], m[5])
rows = []; ratios = collections.defaultdict(list)
for f in sorted(glob.glob(O + '/*.json')):
    r, v, n = os.path.basename(f)[:-5].split('-')
    try: data = json.load(open(f))
    except Exception: continue
    s = {d['benchmark'].split('.')[-1]: d['primaryMetric'] for d in data}
    if 'asyncVirtualFile' not in s: continue
    base = 'blockingFileChannel' if n == 'n1' else 'blockingFileChannelOnAllCores'
    ratio = s['asyncVirtualFile']['score'] / s[base]['score']
    ratios[(v, n)].append(ratio)
    fmt = lambda k: f"{s[k]['score']:.3f} ± {s[k]['scoreError']:.3f}"
    st, ld = loads.get((r, v, n), ('?', '?'))
    rows.append(f"| {r[1:]} | {v} | {n[1:]} | {st}, {ld} | {fmt('asyncVirtualFile')} | {fmt('blockingFileChannel')} | {fmt('blockingFileChannelOnAllCores')} | {ratio:.2f} |")
print('| round | build | inFlight | start (UTC), load | asyncVirtualFile | blockingFileChannel | blockingFileChannelOnAllCores | ratio |')
print('|---|---|--:|---|--:|--:|--:|--:|')
for x in sorted(rows, key=lambda x: (x.split('|')[3], x.split('|')[1])): print(x)
print()
print('| build | inFlight | ratios per round | median |')
print('|---|--:|---|--:|')
for (v, n), rs in sorted(ratios.items(), key=lambda kv: (kv[0][1], kv[0][0])):
    print(f"| {v} | {n[1:]} | {', '.join(f'{x:.2f}' for x in rs)} | {statistics.median(rs):.2f} |")
