"""Reference: forward, MeZO/FedKSeed-style zeroth-order step and LoRA training step (rank 8 on every linear layer of
the blocks, forward + backward + AdamW) of a LLaMA-style model in PyTorch (CPU, float32).
The same shapes are what the project's own benchmark must run, so the two can be compared in one run.
Usage: python3 torch_llama_ref.py [vocab hidden layers heads kv_heads ffn seq batch]
Kept in Federated as tools/bench/torch_llama_ref.py: run it beside `federated bench` (docs/performance.md)."""
import os
# Use the CPU's best OpenBLAS kernels: some machines pin OPENBLAS_CORETYPE (e.g. to Haswell = AVX2 only),
# which would understate the reference. It must be cleared before numpy/torch load OpenBLAS.
for _k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"): os.environ.pop(_k, None)
import sys, time, math, torch
import torch.nn as nn, torch.nn.functional as F
torch.set_num_threads(2)
V,H,L,NH,NKV,FF,T,B = (int(x) for x in (sys.argv[1:] or "8192 512 8 8 4 1376 128 8".split()))
HD = H//NH
class RMS(nn.Module):
    def __init__(s,d): super().__init__(); s.w=nn.Parameter(torch.ones(d))
    def forward(s,x): return x*torch.rsqrt(x.pow(2).mean(-1,keepdim=True)+1e-5)*s.w
def rope(x,cos,sin):
    x1,x2=x[..., :HD//2],x[..., HD//2:]
    return x*cos+torch.cat((-x2,x1),-1)*sin
class Block(nn.Module):
    def __init__(s):
        super().__init__(); s.n1=RMS(H); s.n2=RMS(H)
        s.q=nn.Linear(H,NH*HD,bias=False); s.k=nn.Linear(H,NKV*HD,bias=False); s.v=nn.Linear(H,NKV*HD,bias=False); s.o=nn.Linear(H,H,bias=False)
        s.g=nn.Linear(H,FF,bias=False); s.u=nn.Linear(H,FF,bias=False); s.d=nn.Linear(FF,H,bias=False)
    def forward(s,x,cos,sin):
        b,t,_=x.shape; h=s.n1(x)
        q=s.q(h).view(b,t,NH,HD).transpose(1,2); k=s.k(h).view(b,t,NKV,HD).transpose(1,2); v=s.v(h).view(b,t,NKV,HD).transpose(1,2)
        q,k=rope(q,cos,sin),rope(k,cos,sin)
        k=k.repeat_interleave(NH//NKV,1); v=v.repeat_interleave(NH//NKV,1)
        att=(q@k.transpose(-1,-2))/math.sqrt(HD)
        att=att.masked_fill(torch.triu(torch.ones(t,t,dtype=torch.bool),1),float('-inf')).softmax(-1)
        a=(att@v).transpose(1,2).reshape(b,t,H)
        x=x+s.o(a); h=s.n2(x)
        return x+s.d(F.silu(s.g(h))*s.u(h))
class LM(nn.Module):
    def __init__(s):
        super().__init__(); s.e=nn.Embedding(V,H); s.bl=nn.ModuleList(Block() for _ in range(L)); s.n=RMS(H); s.head=nn.Linear(H,V,bias=False)
        inv=1.0/(10000**(torch.arange(0,HD,2).float()/HD)); f=torch.outer(torch.arange(T).float(),inv); e=torch.cat((f,f),-1)
        s.cos,s.sin=e.cos(),e.sin()
    def forward(s,ids):
        x=s.e(ids)
        for b in s.bl: x=b(x,s.cos,s.sin)
        return s.head(s.n(x))
torch.manual_seed(0); m=LM().eval(); n=sum(p.numel() for p in m.parameters())
ids=torch.randint(0,V,(B,T))
def loss():
    lg=m(ids); return F.cross_entropy(lg[:,:-1].reshape(-1,V), ids[:,1:].reshape(-1))
def perturb(seed,scale):
    g=torch.Generator().manual_seed(seed)
    for p in m.parameters(): p.data.add_(torch.randn(p.shape,generator=g),alpha=scale)
@torch.no_grad()
def zo_step(seed,eps=1e-3,lr=1e-4):
    perturb(seed,eps); lp=loss().item(); perturb(seed,-2*eps); lm=loss().item(); perturb(seed,eps)
    g=(lp-lm)/(2*eps); perturb(seed,-lr*g); return g
with torch.no_grad():
    loss()
    t=time.perf_counter(); r=0
    while time.perf_counter()-t<5: loss(); r+=1
    fwd=(time.perf_counter()-t)/r
    zo_step(1); t=time.perf_counter(); r=0
    while time.perf_counter()-t<8: zo_step(r+2); r+=1
    zo=(time.perf_counter()-t)/r
class LoRA(nn.Module):
    def __init__(s,base,r=8,alpha=16):
        super().__init__(); s.base=base; s.sc=alpha/r
        s.A=nn.Parameter(torch.randn(r,base.in_features)*0.01); s.B=nn.Parameter(torch.zeros(base.out_features,r))
    def forward(s,x): return s.base(x)+(x@s.A.t())@s.B.t()*s.sc
for p in m.parameters(): p.requires_grad_(False)
for b in m.bl:
    for name in "q k v o g u d".split(): setattr(b,name,LoRA(getattr(b,name)))
opt=torch.optim.AdamW([p for p in m.parameters() if p.requires_grad],lr=1e-4)
def lora_step():
    opt.zero_grad(set_to_none=True); l=loss(); l.backward(); opt.step()
lora_step(); t=time.perf_counter(); r=0
while time.perf_counter()-t<8: lora_step(); r+=1
lstep=(time.perf_counter()-t)/r
print(f"torch {torch.__version__} params={n/1e6:.2f}M tokens/forward={B*T}")
print(f"forward: {fwd*1000:.1f} ms  = {B*T/fwd:.0f} tokens/s  = {2*n*B*T/fwd/1e9:.1f} GFLOP/s (2*params*tokens)")
print(f"zo_step (2 forwards + 4 in-place perturbations): {zo*1000:.1f} ms")
print(f"lora_step (rank 8, forward + backward + AdamW): {lstep*1000:.1f} ms")
