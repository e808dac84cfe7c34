using System.Runtime.InteropServices;

namespace Federated.Core.Kernels;

public static partial class MatMul
{
    // Blocking (see docs/performance.md). The micro-kernel computes an MR×NR = 6×64 tile of C (24 zmm accumulators)
    // over a KC slice of k from an A micro-panel (KC×6, 12 KB) and a B micro-panel (KC×64, 128 KB, streamed from L2).
    // A work item is a TileM×TileN block of C (smaller when there are too few tiles for the threads) for one KC slice;
    // the tile's A panels (TileM×KC, 192 KB) and B panels (KC×TileN, 1 MB) sit in the 1 MB L2 + 32 MB L3 of Zen 5.
    // KC = 512 (was 256) measured 8–15 % faster on every packed shape side by side with OpenBLAS at load ≈ 2
    // (docs/performance.md, 2026-11-23 15:00Z): fewer passes over C, and the model's k = 512 fits one slice.
    internal const int MR = 6;
    internal const int NR = 64;
    internal static int KC = 512;
    internal static int TileM = 96;
    internal static int TileN = 512;

    /// <summary>Most floats one packed operand may take (16 MB); bigger products run in row/column super-blocks.</summary>
    private const long PackLimitFloats = 4L << 20;

    /// <summary>A micro-panels packed per work item of the packing phase.</summary>
    private const int APanelsPerItem = 8;

    [ThreadStatic] private static PackedJob? t_packedJob;

    /// <summary>
    /// The packed GEMM. Per super-block (ms rows × ns columns of C):
    ///   phase 1 (parallel): pack all of A into MR-row panels and all of B into NR-column panels, KC slice by slice;
    ///   phase 2 (parallel): items (slice, tile) in slice-major order, a TileM×TileN tile of C over one KC slice; an
    ///   item waits (rarely) until the same tile's previous slice is done, so slices of a tile add in k order without
    ///   a barrier per slice. Inside an item: B panels, then A panels, calling the micro-kernel.
    ///   Every C element sees the same k order on any thread count.
    /// </summary>
    private static unsafe void Packed(in GemmArgs g, int threads)
    {
        int k = g.K;
        int superM = (int)Math.Max(TileM, PackLimitFloats / k / TileM * TileM);
        int superN = (int)Math.Max(TileN, PackLimitFloats / k / TileN * TileN);
        var job = t_packedJob ??= new PackedJob();
        for (int i0 = 0; i0 < g.M; i0 += superM)
        for (int j0 = 0; j0 < g.N; j0 += superN)
        {
            int ms = Math.Min(superM, g.M - i0), ns = Math.Min(superN, g.N - j0);
            job.Prepare(g, i0, j0, ms, ns, threads);
            job.Phase = 0;
            EngineThreads.Run(job, job.PackItems, threads);
            job.Phase = 1;
            EngineThreads.Run(job, job.TileItems * job.Slices, threads);
        }
        job.Clear();
    }

    private sealed unsafe class PackedJob : ParallelJob
    {
        private GemmArgs _g;
        private int _i0, _j0, _ms, _ns, _tileM, _tileN, _mPanels, _nPanels, _aItems, _tilesM;
        private float* _packA, _packB;
        private nuint _capA, _capB;
        public int Phase;
        public int PackItems, TileItems, Slices;
        private int[] _slicesDone = [];

        public void Prepare(in GemmArgs g, int i0, int j0, int ms, int ns, int threads)
        {
            // Tiles only partition C (each element's k order is fixed by KC and the kernel), so their size may follow
            // the thread count without changing a bit: shrink them until every thread gets about 8 tiles.
            _tileM = TileM;
            _tileN = TileN;
            while (threads > 1 && Tiles(ms, _tileM) * Tiles(ns, _tileN) < 8 * threads)
            {
                if (_tileN >= 4 * NR && _tileN >= _tileM * 2) _tileN /= 2;
                else if (_tileM >= 4 * MR && _tileM % (2 * MR) == 0) _tileM /= 2;
                else break;
            }
            _g = g; _i0 = i0; _j0 = j0; _ms = ms; _ns = ns;
            _mPanels = (ms + MR - 1) / MR;
            _nPanels = (ns + NR - 1) / NR;
            _aItems = (_mPanels + APanelsPerItem - 1) / APanelsPerItem;
            PackItems = _aItems + _nPanels;
            _tilesM = Tiles(ms, _tileM);
            TileItems = _tilesM * Tiles(ns, _tileN);
            Slices = Tiles(g.K, KC);
            if (_slicesDone.Length < TileItems) _slicesDone = new int[Math.Max(TileItems, 2 * _slicesDone.Length)];
            Array.Clear(_slicesDone, 0, TileItems);
            _packA = Ensure(_packA, ref _capA, (nuint)_mPanels * MR * (nuint)g.K);
            _packB = Ensure(_packB, ref _capB, (nuint)_nPanels * NR * (nuint)g.K);
        }

        public void Clear() => _g = default;

        private static int Tiles(int length, int tile) => (length + tile - 1) / tile;

        /// <summary>Grow-only 64-byte aligned buffer, kept for the life of the calling thread.</summary>
        private static float* Ensure(float* buffer, ref nuint capacity, nuint floats)
        {
            if (floats <= capacity) return buffer;
            if (buffer != null) NativeMemory.AlignedFree(buffer);
            capacity = Math.Max(floats, capacity * 3 / 2);
            return (float*)NativeMemory.AlignedAlloc(capacity * sizeof(float), 64);
        }

        public override void Execute(int item)
        {
            if (Phase == 0) Pack(item);
            else Tile(item);
        }

        // Packed layout, slice by slice: slice pc (length kcl) of A starts at packA + pc·mPanels·MR and holds panel
        // ip at + ip·MR·kcl as [kcl][MR]; B likewise at packB + pc·nPanels·NR, panel jp at + jp·NR·kcl as [kcl][NR].
        private void Pack(int item)
        {
            int k = _g.K;
            if (item < _aItems)
            {
                int first = item * APanelsPerItem, last = Math.Min(_mPanels, first + APanelsPerItem);
                for (int pc = 0; pc < k; pc += KC)
                {
                    int kcl = Math.Min(KC, k - pc);
                    float* slice = _packA + (long)pc * _mPanels * MR;
                    for (int ip = first; ip < last; ip++)
                    {
                        int row = ip * MR;
                        PackA(_g, _i0 + row, Math.Min(MR, _ms - row), pc, kcl, slice + (long)ip * MR * kcl);
                    }
                }
            }
            else
            {
                int jp = item - _aItems, col = jp * NR;
                for (int pc = 0; pc < k; pc += KC)
                {
                    int kcl = Math.Min(KC, k - pc);
                    float* slice = _packB + (long)pc * _nPanels * NR;
                    PackB(_g, _j0 + col, Math.Min(NR, _ns - col), pc, kcl, slice + (long)jp * NR * kcl);
                }
            }
        }

        /// <summary>
        /// One TileM×TileN tile of C over the KC slice starting at pc; items run column tile major so consecutive
        /// items share the B tile. Inside: B panels outer, A panels inner (A micro-panel 6 KB, B micro-panel 64 KB).
        /// </summary>
        private void Tile(int item)
        {
            int slice = item / TileItems, tile = item % TileItems;
            if (Volatile.Read(ref _slicesDone[tile]) != slice)
            {
                // The previous slice of this tile is still running on another thread (claimed earlier, so it
                // finishes without waiting on us).
                var spin = new SpinWait();
                while (Volatile.Read(ref _slicesDone[tile]) != slice) spin.SpinOnce(sleep1Threshold: -1);
            }
            TileSlice(tile, slice * KC);
            Volatile.Write(ref _slicesDone[tile], slice + 1);
        }

        private void TileSlice(int tile, int pc)
        {
            int tn = tile / _tilesM, tm = tile % _tilesM;
            int rowStart = tm * _tileM, rowEnd = Math.Min(_ms, rowStart + _tileM);
            int colStart = tn * _tileN, colEnd = Math.Min(_ns, colStart + _tileN);
            int crs = _g.Crs, ccs = _g.Ccs;
            int kcl = Math.Min(KC, _g.K - pc);
            var isa = _g.Isa;
            bool add = _g.Accumulate || pc > 0;
            float* sliceA = _packA + (long)pc * _mPanels * MR;
            float* sliceB = _packB + (long)pc * _nPanels * NR;
            for (int col = colStart; col < colEnd; col += NR)
            {
                float* bp = sliceB + (long)(col / NR) * NR * kcl;
                int cols = Math.Min(NR, colEnd - col);
                for (int row = rowStart; row < rowEnd; row += MR)
                {
                    float* ap = sliceA + (long)(row / MR) * MR * kcl;
                    float* c = _g.C + (long)(_i0 + row) * crs + (long)(_j0 + col) * ccs;
                    int rows = Math.Min(MR, rowEnd - row);
                    if (rows == MR && cols == NR && ccs == 1) Kernel(isa, ap, bp, kcl, c, crs, add);
                    else KernelEdge(isa, ap, bp, kcl, c, crs, ccs, rows, cols, add);
                }
            }
        }
    }
}
