"""Reference ε values for tests/Federated.Privacy.Tests/RdpAccountantTests.cs.

Opacus opacus/accountants/analysis/rdp.py (_compute_log_a_for_int_alpha, _compute_log_a_for_frac_alpha,
get_privacy_spent) re-written from its formulas with mpmath at 50 digits (no scipy/opacus on the machine).
Run once: python3 tools/privacy/rdp_reference.py
"""
import mpmath as mp

mp.mp.dps = 50
ORDERS = [1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64))


def log_a_int(q, s, a):
    q, s = mp.mpf(q), mp.mpf(s)
    return mp.log(mp.fsum(mp.binomial(a, i) * q**i * (1 - q) ** (a - i) * mp.exp((i * i - i) / (2 * s * s)) for i in range(a + 1)))


def log_a_frac(q, s, a):
    q, s, a = mp.mpf(q), mp.mpf(s), mp.mpf(a)
    a0, a1 = mp.mpf(0), mp.mpf(0)
    z0 = s * s * mp.log(1 / q - 1) + mp.mpf(1) / 2
    i = 0
    while True:
        c = mp.binomial(a, i)
        j = a - i
        t0 = c * q**i * (1 - q) ** j
        t1 = c * q**j * (1 - q) ** i
        e0 = mp.erfc((i - z0) / (mp.sqrt(2) * s)) / 2
        e1 = mp.erfc((z0 - j) / (mp.sqrt(2) * s)) / 2
        s0 = t0 * mp.exp((i * i - i) / (2 * s * s)) * e0
        s1 = t1 * mp.exp((j * j - j) / (2 * s * s)) * e1
        a0 += s0
        a1 += s1
        i += 1
        if max(mp.log(abs(s0)) if s0 != 0 else -mp.inf, mp.log(abs(s1)) if s1 != 0 else -mp.inf) < -30:
            break
    return mp.log(a0 + a1)


def rdp(q, s, a, steps):
    la = log_a_int(q, s, int(a)) if float(a).is_integer() else log_a_frac(q, s, a)
    return la / (a - 1) * steps


def eps(q, s, steps, delta, improved, orders=ORDERS):
    best = None
    for a in orders:
        r = rdp(q, s, a, steps)
        a_ = mp.mpf(a)
        e = r - (mp.log(delta) + mp.log(a_)) / (a_ - 1) + mp.log((a_ - 1) / a_) if improved else r - mp.log(delta) / (a_ - 1)
        if best is None or e < best[0]:
            best = (e, a)
    return best


if __name__ == "__main__":
    for name, (q, s, steps) in {
        "opacus README": (0.04, 1.5, 2250),
        "mnist 60000/256 σ1.1 60ep": (256 / 60000, 1.1, 14063),
        "opacus script 60000/256 σ1.12 60ep": (256 / 60000, 1.12, 14100),
    }.items():
        for improved in (True, False):
            e, a = eps(q, s, steps, 1e-5, improved)
            print(f"{name:40s} improved={improved!s:5s} eps={mp.nstr(e, 15)} order={a}")
    # Single-step RDP at fractional and integer orders (checks the erfc series).
    for a in (1.5, 2.5, 10.9, 32):
        print(f"rdp q=0.01 σ=0.8 α={a}: {mp.nstr(rdp(0.01, 0.8, a, 1), 17)}")
