#!/usr/bin/env python3
"""Independent implementation of the Federated seed protocol v1 (docs/seed-protocol.md), pure Python 3.

Written from the spec text, not from the C# code. Every float32 operation is emulated by computing in float64 and
rounding to float32 with struct: for +, -, *, / and sqrt of float32 operands this double rounding is innocuous
(53 >= 2*24 + 2 bits), so each step equals the correctly rounded IEEE float32 result the spec requires.

Run once: python3 tools/seed-protocol/golden.py  -> prints constants and golden z values (float32 bit patterns).
"""
import math
import struct

M0, M1 = 0xD2511F53, 0xCD9E8D57
W0, W1 = 0x9E3779B9, 0xBB67AE85
MASK = 0xFFFFFFFF
DOMAIN_NORMAL = 0x4E524D31  # "NRM1"
DOMAIN_POOL = 0x504F4F4C    # "POOL"


def f32(x):
    return struct.unpack('<f', struct.pack('<f', x))[0]


def bits(x):
    return struct.unpack('<I', struct.pack('<f', x))[0]


def from_bits(b):
    return struct.unpack('<f', struct.pack('<I', b & MASK))[0]


def philox4x32(ctr, key, rounds=10):
    c0, c1, c2, c3 = ctr
    k0, k1 = key
    for r in range(rounds):
        if r > 0:
            k0 = (k0 + W0) & MASK
            k1 = (k1 + W1) & MASK
        p0 = M0 * c0
        p1 = M1 * c2
        c0, c1, c2, c3 = ((p1 >> 32) ^ c1 ^ k0) & MASK, p1 & MASK, ((p0 >> 32) ^ c3 ^ k1) & MASK, p0 & MASK
    return c0, c1, c2, c3


# Coefficients: float32 roundings of exact rationals / Taylor coefficients of sin(2*pi*f), cos(2*pi*f).
TWO_PI = 2.0 * math.pi
LN2 = f32(math.log(2.0))
L3, L5, L7, L9 = f32(2 / 3), f32(2 / 5), f32(2 / 7), f32(2 / 9)
S = [f32((-1) ** (k // 2) * TWO_PI ** k / math.factorial(k)) for k in (1, 3, 5, 7, 9)]
C = [f32((-1) ** (k // 2) * TWO_PI ** k / math.factorial(k)) for k in (2, 4, 6, 8, 10)]
TWO_M24 = 2.0 ** -24


def radius(x):
    k = 2 * (x >> 9) + 1                    # odd, 1 .. 2^24-1
    u = f32(k * TWO_M24)                    # exact
    b = bits(u)
    i = (b - 0x3F3504F3) & MASK
    if i >= 0x80000000:
        i -= 1 << 32
    e = i >> 23                             # arithmetic shift
    m = from_bits(b - (e << 23))            # in [sqrt(1/2), sqrt(2))
    s = f32(f32(m - 1.0) / f32(m + 1.0))
    s2 = f32(s * s)
    p = L9
    p = f32(f32(p * s2) + L7)
    p = f32(f32(p * s2) + L5)
    p = f32(f32(p * s2) + L3)
    lnm = f32(f32(s + s) + f32(s * f32(s2 * p)))
    lnu = f32(f32(float(e) * LN2) + lnm)
    return f32(math.sqrt(f32(lnu * -2.0)))


def sincos(x):
    a = x >> 9                              # 23 bits; u = (2a+1) * 2^-24
    q = (a + (1 << 20)) >> 21               # nearest quarter turn, 0..4
    n = 2 * a + 1 - q * (1 << 22)           # |n| < 2^21, odd
    f = f32(n * TWO_M24)                    # u - q/4 in turns, exact
    f2 = f32(f * f)
    p = S[4]
    for c in (S[3], S[2], S[1], S[0]):
        p = f32(f32(p * f2) + c)
    sn = f32(p * f)
    p = C[4]
    for c in (C[3], C[2], C[1], C[0]):
        p = f32(f32(p * f2) + c)
    cs = f32(f32(p * f2) + 1.0)
    q &= 3
    if q == 0:
        return cs, sn
    if q == 1:
        return -sn, cs
    if q == 2:
        return -cs, -sn
    return sn, -cs


def block_normals(seed, tensor, block):
    x = philox4x32((block & MASK, (block >> 32) & MASK, tensor & MASK, DOMAIN_NORMAL), (seed & MASK, seed >> 32))
    r0, r1 = radius(x[0]), radius(x[2])
    c0, s0 = sincos(x[1])
    c1, s1 = sincos(x[3])
    return [f32(r0 * c0), f32(r0 * s0), f32(r1 * c1), f32(r1 * s1)]


def z(seed, tensor, element):
    return block_normals(seed, tensor, element >> 2)[element & 3]


def pool_seed(master, index):
    x = philox4x32((index & MASK, index >> 32, 0, DOMAIN_POOL), (master & MASK, master >> 32))
    return x[0] | (x[1] << 32)


def main():
    print('philox4x32_10(0,0) =', ' '.join('%08x' % v for v in philox4x32((0, 0, 0, 0), (0, 0))))
    print('philox4x32_10(pi)  =', ' '.join('%08x' % v for v in philox4x32(
        (0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344), (0xa4093822, 0x299f31d0))))
    print('LN2 %08x' % bits(LN2), 'L3 %08x L5 %08x L7 %08x L9 %08x' % tuple(bits(v) for v in (L3, L5, L7, L9)))
    print('S', ' '.join('%08x(%r)' % (bits(v), v) for v in S))
    print('C', ' '.join('%08x(%r)' % (bits(v), v) for v in C))
    keys = [(0, 0, 0), (0, 0, 1), (0, 0, 2), (0, 0, 3), (42, 0, 0), (42, 0, 5), (42, 3, 1001),
            (0x0123456789ABCDEF, 7, 123456789), (0xFFFFFFFFFFFFFFFF, 0x7FFFFFFF, 0x7FFFFFFFFF),
            (99999999999, 1, 4294967296 * 4 + 2)]
    for seed, tensor, element in keys:
        v = z(seed, tensor, element)
        print('(0x%016XUL, %d, %dL, 0x%08Xu), // %r' % (seed, tensor, element, bits(v), v))
    for i in range(4):
        print('pool(42, %d) = 0x%016XUL' % (i, pool_seed(42, i)))
    # A run long enough for every vector path: FNV-1a 64 over the little-endian bits of z(2024, 9, 1 .. 1027).
    h = 0xCBF29CE484222325
    for e in range(1, 1028):
        for byte in struct.pack('<f', z(2024, 9, e)):
            h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    print('fnv1a64(z(2024, 9, 1..1027)) = 0x%016XUL' % h)


if __name__ == '__main__':
    main()
