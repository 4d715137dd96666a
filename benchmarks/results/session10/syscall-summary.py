import sys,re,collections
tot=collections.defaultdict(lambda:[0,0.0,0.0])
for line in open(sys.argv[1]):
    m=re.match(r'\s+(\w+)\s+(\d+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)',line)
    if m:
        t=tot[m.group(1)]; t[0]+=int(m.group(2)); t[1]+=float(m.group(4)); t[2]=max(t[2],float(m.group(7)))
for k,(c,ms,mx) in sorted(tot.items(),key=lambda x:-x[1][1])[:25]:
    print(f"{k:16s} calls={c:7d} total={ms:10.1f}ms avg={ms/c*1000:8.1f}us max={mx:8.1f}ms")
