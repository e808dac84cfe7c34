# Independent reference for extra tokenizer cases: Python `regex` (Unicode code-point semantics like Oniguruma)
# for the Split pattern, GPT-2 bytes_to_unicode, rank-ordered BPE with ignore_merges. Used once to make test data.
import json, regex, sys
def b2u():
    bs=list(range(ord("!"),ord("~")+1))+list(range(ord("¡"),ord("¬")+1))+list(range(ord("®"),ord("ÿ")+1))
    cs=bs[:]; n=0
    for b in range(256):
        if b not in bs: bs.append(b); cs.append(256+n); n+=1
    return dict(zip(bs,map(chr,cs)))
B=b2u()
tj=json.load(open(sys.argv[1]))
vocab=tj['model']['vocab']
ranks={}
for r,m in enumerate(tj['model']['merges']):
    a,b=(m.split(' ') if isinstance(m,str) else m); ranks[(a,b)]=r
ign=tj['model'].get('ignore_merges',False)
pre=tj['pre_tokenizer']
pat=pre['pretokenizers'][0]['pattern']['Regex'] if pre['type']=='Sequence' else r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
def bpe(w):
    if ign and w in vocab: return [vocab[w]]
    parts=list(w)
    while len(parts)>1:
        best=min(((ranks.get((parts[i],parts[i+1]),1<<60),i) for i in range(len(parts)-1)))
        if best[0]==1<<60: break
        i=best[1]; parts[i:i+2]=[parts[i]+parts[i+1]]
    return [vocab[p] for p in parts]
def encode(t):
    ids=[]
    for p in regex.findall(pat,t):
        ids+=bpe(''.join(B[b] for b in p.encode('utf-8')))
    return ids
texts=json.loads(sys.argv[2])
print(json.dumps([{"text":t,"ids":encode(t),"pieces":regex.findall(pat,t)} for t in texts],ensure_ascii=True))
