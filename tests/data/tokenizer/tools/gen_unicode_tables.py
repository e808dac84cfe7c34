# Generates UnicodeNormalization.Data.cs (argv[1]) and NFC/NFD test vectors (argv[2]) from Python unicodedata.
import unicodedata as u
ccc=[]; dec=[]; comp=[]
for c in range(0x110000):
    if 0xD800<=c<=0xDFFF or (0xAC00<=c<=0xD7A3): continue
    ch=chr(c)
    k=u.combining(ch)
    if k: ccc.append((c,k))
    d=u.decomposition(ch)
    if d and not d.startswith('<'):
        parts=[int(x,16) for x in d.split()]
        dec.append((c,parts))
        if len(parts)==2 and u.normalize('NFC',chr(parts[0])+chr(parts[1]))==ch:
            comp.append((parts[0],parts[1],c))
def rows(items, per=12):
    return "\n".join("        "+" ".join(items[i:i+per]) for i in range(0,len(items),per))
cccs=[f"0x{c:X}, {k}," for c,k in ccc]
decs=[f"0x{c:X}, {len(p)}, "+", ".join(f"0x{x:X}" for x in p)+"," for c,p in dec]
comps=[f"0x{a:X}, 0x{b:X}, 0x{c:X}," for a,b,c in comp]
out=f'''namespace Federated.Core.Tokenization;

// Generated from Python {__import__("sys").version.split()[0]} unicodedata (Unicode {u.unidata_version}) by a one-off script:
//   Ccc: (code point, canonical combining class) for every class != 0;
//   Decompositions: (code point, n, n code points) for every canonical (non-<compat>) decomposition, one level;
//   Compositions: (first, second, composite) for every two-element canonical decomposition whose NFC is the
//   composite itself (primary composites: composition exclusions and singletons left out). Hangul is algorithmic.
internal static partial class UnicodeNormalization
{{
    private static readonly int[] CccData =
    [
{rows(cccs,8)}
    ];

    private static readonly int[] DecompositionData =
    [
{rows(decs,5)}
    ];

    private static readonly int[] CompositionData =
    [
{rows(comps,5)}
    ];
}}
'''
open(__import__('sys').argv[1],'w').write(out)
print(len(ccc),len(dec),len(comp))
# test vectors
import json, random
random.seed(3)
samples=["cafe\u0301","\u212B","\u1100\u1161\u11A8","\uAC00\u11A8","a\u0328\u0301\u0323","\u0958","\u0915\u093C","\u1E0A\u0323","\u0D4A","\u0B47\u0B3E","q\u0307\u0323","\u00C5\u0301","\u1100\u1161","e\u0302\u0323","\u03D3","\u0344","\U0001D15E","\u0F73","\u0E40\u0E01\u0E38\u0E4C","\u0939\u093F\u0928\u094D\u0926\u0940","\u05D0\u05B8\u05BC"]
pool=[0x41,0x61,0x65,0x6F,0x300,0x301,0x302,0x303,0x308,0x323,0x327,0x328,0x345,0x3B1,0x3B9,0x1100,0x1161,0x11A8,0xAC00,0x915,0x93C,0x94D,0x9C7,0x9BE,0x9D7,0x5D0,0x5B8,0x5BC,0x212B,0xC5,0xE9,0x1E0A,0x4E2D,0x1F642,0x1D15E,0xF71,0xF72,0xF80,0x3099,0x304B,0x306F]
for i in range(60):
    samples.append("".join(chr(random.choice(pool)) for _ in range(random.randint(1,8))))
vec=[{"text":s,"nfc":u.normalize('NFC',s),"nfd":u.normalize('NFD',s)} for s in samples]
json.dump(vec, open(__import__('sys').argv[2],'w'), ensure_ascii=True)
