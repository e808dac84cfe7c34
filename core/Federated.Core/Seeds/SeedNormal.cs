using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Federated.Core.Seeds;

/// <summary>
/// The seed protocol (docs/seed-protocol.md, version <see cref="Version"/>): z(seed, tensorIndex, element) ~ N(0, 1) as
/// float32, regenerated from the seed alone, bit-identical on every machine, .NET version, vector width and thread count.
/// Element e of tensor t uses Philox4x32-10 block b = e / 4 with key (seed lo, seed hi) and counter
/// (b lo, b hi, t, <see cref="DomainNormal"/>), lane e mod 4 of its four Box–Muller normals. Tensor index = position in
/// the Hugging Face parameter order; elements are row-major.
/// z is never materialised beyond one block of registers: each pass over a model costs |w| normals of compute and no
/// memory (a ZO step makes four passes: +ε, −2ε, +ε, update).
/// Time: ~10 Philox rounds (two 32×32→64 products each) per 4 normals, plus one log, one sqrt, one sincos per pair.
/// </summary>
public static partial class SeedNormal
{
    /// <summary>Version of the seed protocol implemented here; part of every run manifest.</summary>
    public const int Version = 1;

    /// <summary>Counter word 3 for perturbation normals: ASCII "NRM1".</summary>
    public const uint DomainNormal = 0x4E524D31;

    /// <summary>Elements per task in the parallel variants (a multiple of 64, so chunks start on vector blocks).</summary>
    public const int ParallelChunk = 1 << 16;

    /// <summary>destination[i] = z(seed, tensorIndex, elementOffset + i).</summary>
    public static void Fill(ulong seed, int tensorIndex, long elementOffset, Span<float> destination)
    {
        Check(tensorIndex, elementOffset, destination.Length);
        Run(seed, (uint)tensorIndex, elementOffset, destination, 0f, add: false, BestPath);
    }

    /// <summary>data[i] = data[i] + scale·z(seed, tensorIndex, elementOffset + i); product then sum, each rounded (no FMA).</summary>
    public static void AddScaled(ulong seed, int tensorIndex, long elementOffset, Span<float> data, float scale)
    {
        Check(tensorIndex, elementOffset, data.Length);
        Run(seed, (uint)tensorIndex, elementOffset, data, scale, add: true, BestPath);
    }

    /// <summary><see cref="Fill"/> over chunks of <see cref="ParallelChunk"/> elements on the thread pool; same bits as Fill.</summary>
    public static void FillParallel(ulong seed, int tensorIndex, long elementOffset, Span<float> destination, int maxDegreeOfParallelism = -1)
    {
        Check(tensorIndex, elementOffset, destination.Length);
        RunParallel(seed, (uint)tensorIndex, elementOffset, destination, 0f, add: false, maxDegreeOfParallelism);
    }

    /// <summary><see cref="AddScaled"/> over chunks of <see cref="ParallelChunk"/> elements on the thread pool; same bits as AddScaled.</summary>
    public static void AddScaledParallel(ulong seed, int tensorIndex, long elementOffset, Span<float> data, float scale, int maxDegreeOfParallelism = -1)
    {
        Check(tensorIndex, elementOffset, data.Length);
        RunParallel(seed, (uint)tensorIndex, elementOffset, data, scale, add: true, maxDegreeOfParallelism);
    }

    /// <summary>One normal, z(seed, tensorIndex, element): the definition the bulk paths must reproduce.</summary>
    public static float At(ulong seed, int tensorIndex, long element)
    {
        Check(tensorIndex, element, 1);
        var (z0, z1, z2, z3) = BlockNormals((uint)seed, (uint)(seed >> 32), (uint)tensorIndex, (ulong)element >> 2);
        return (element & 3) switch { 0 => z0, 1 => z1, 2 => z2, _ => z3 };
    }

    /// <summary>Which kernel runs the whole blocks; tests force each to prove they agree bit for bit.</summary>
    internal enum Path { Scalar, Vector128, Vector256, Vector512 }

    internal static Path BestPath =>
        System.Runtime.Intrinsics.X86.Avx512F.IsSupported ? Path.Vector512 :
        System.Runtime.Intrinsics.X86.Avx2.IsSupported ? Path.Vector256 :
        System.Runtime.Intrinsics.X86.Sse2.IsSupported || System.Runtime.Intrinsics.Arm.AdvSimd.Arm64.IsSupported ? Path.Vector128 : Path.Scalar;

    private static void Check(int tensorIndex, long elementOffset, int length)
    {
        if (tensorIndex < 0) throw new ArgumentOutOfRangeException(nameof(tensorIndex), tensorIndex, "Tensor index must be non-negative.");
        if (elementOffset < 0 || elementOffset > long.MaxValue - length)
            throw new ArgumentOutOfRangeException(nameof(elementOffset), elementOffset, "Element offset must be non-negative and leave room for the span.");
    }

    private static unsafe void RunParallel(ulong seed, uint tensor, long offset, Span<float> data, float scale, bool add, int maxDegreeOfParallelism)
    {
        int length = data.Length;
        if (length <= ParallelChunk || maxDegreeOfParallelism == 1)
        {
            Run(seed, tensor, offset, data, scale, add, BestPath);
            return;
        }
        int chunks = (int)(((long)length + ParallelChunk - 1) / ParallelChunk);
        var options = new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism };
        Path path = BestPath;
        fixed (float* pointer = data)
        {
            nint address = (nint)pointer;
            // Each element's z depends only on its own index, so any chunking gives the same bits.
            Parallel.For(0, chunks, options, chunk =>
            {
                int start = chunk * ParallelChunk;
                int count = Math.Min(ParallelChunk, length - start);
                Run(seed, tensor, offset + start, new Span<float>((float*)address + start, count), scale, add, path);
            });
        }
    }

    /// <summary>Head (partial block), whole blocks on the chosen path then narrower ones, scalar whole blocks, tail (partial block).</summary>
    internal static void Run(ulong seed, uint tensor, long offset, Span<float> data, float scale, bool add, Path path)
    {
        uint k0 = (uint)seed, k1 = (uint)(seed >> 32);
        ref float d = ref MemoryMarshal.GetReference(data);
        int n = data.Length, i = 0;
        ulong element = (ulong)offset;

        int lane = (int)(element & 3);
        if (lane != 0 && n > 0)
        {
            int take = Math.Min(4 - lane, n);
            EmitPartial(k0, k1, tensor, element >> 2, lane, take, ref d, scale, add);
            i = take;
            element += (ulong)take;
        }
        if (path == Path.Vector512)
            i = RunLanes<Lanes512, Vector512<uint>, Vector512<int>, Vector512<float>>(k0, k1, tensor, ref element, ref d, i, n, scale, add);
        if (path >= Path.Vector256)
            i = RunLanes<Lanes256, Vector256<uint>, Vector256<int>, Vector256<float>>(k0, k1, tensor, ref element, ref d, i, n, scale, add);
        if (path >= Path.Vector128)
            i = RunLanes<Lanes128, Vector128<uint>, Vector128<int>, Vector128<float>>(k0, k1, tensor, ref element, ref d, i, n, scale, add);
        for (; n - i >= 4; i += 4, element += 4)
        {
            var (z0, z1, z2, z3) = BlockNormals(k0, k1, tensor, element >> 2);
            ref float p = ref Unsafe.Add(ref d, i);
            if (add)
            {
                p = p + scale * z0;
                Unsafe.Add(ref p, 1) = Unsafe.Add(ref p, 1) + scale * z1;
                Unsafe.Add(ref p, 2) = Unsafe.Add(ref p, 2) + scale * z2;
                Unsafe.Add(ref p, 3) = Unsafe.Add(ref p, 3) + scale * z3;
            }
            else
            {
                p = z0; Unsafe.Add(ref p, 1) = z1; Unsafe.Add(ref p, 2) = z2; Unsafe.Add(ref p, 3) = z3;
            }
        }
        if (i < n)
            EmitPartial(k0, k1, tensor, element >> 2, 0, n - i, ref Unsafe.Add(ref d, i), scale, add);
    }

    /// <summary>Lanes [lane, lane + count) of block <paramref name="block"/> into d[0..count).</summary>
    private static void EmitPartial(uint k0, uint k1, uint tensor, ulong block, int lane, int count, ref float d, float scale, bool add)
    {
        var (z0, z1, z2, z3) = BlockNormals(k0, k1, tensor, block);
        Span<float> z = [z0, z1, z2, z3];
        for (int j = 0; j < count; j++)
        {
            ref float p = ref Unsafe.Add(ref d, j);
            p = add ? p + scale * z[lane + j] : z[lane + j];
        }
    }
}
