namespace Federated.Data.Training;

/// <summary>
/// Packs tokenized examples into the engine's batch layout: ids [B, T] right-padded with id 0 and loss mask [B, T]
/// (the examples' masks, false on padding), T = the longest example. Causal attention means right padding never
/// changes the real tokens' logits, and masked targets never count in the loss. The buffers grow and are reused.
/// </summary>
public sealed class TokenizedBatch
{
    private int[] _ids = [];
    private bool[] _mask = [];

    /// <summary>Rows of the last packed batch.</summary>
    public int BatchSize { get; private set; }

    /// <summary>Columns of the last packed batch (its longest example).</summary>
    public int SeqLen { get; private set; }

    /// <summary>The packed ids, [BatchSize, SeqLen].</summary>
    public ReadOnlySpan<int> Ids => _ids.AsSpan(0, BatchSize * SeqLen);

    /// <summary>The packed loss mask, [BatchSize, SeqLen].</summary>
    public ReadOnlySpan<bool> LossMask => _mask.AsSpan(0, BatchSize * SeqLen);

    /// <summary>Packs <paramref name="batch"/> (at least one example).</summary>
    public void Pack(IReadOnlyList<TokenizedExample> batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0) throw new ArgumentException("A batch needs at least one example.", nameof(batch));
        int seqLen = 0;
        foreach (var e in batch) seqLen = Math.Max(seqLen, e.Ids.Length);
        int size = batch.Count * seqLen;
        if (_ids.Length < size) { _ids = new int[size]; _mask = new bool[size]; }
        Pack(batch, seqLen, _ids.AsSpan(0, size), _mask.AsSpan(0, size));
        BatchSize = batch.Count;
        SeqLen = seqLen;
    }

    /// <summary>Writes <paramref name="batch"/> right-padded to <paramref name="seqLen"/> into ids and mask ([B, T] each).</summary>
    public static void Pack(IReadOnlyList<TokenizedExample> batch, int seqLen, Span<int> ids, Span<bool> mask)
    {
        for (int b = 0; b < batch.Count; b++)
        {
            var e = batch[b];
            var rowIds = ids.Slice(b * seqLen, seqLen);
            var rowMask = mask.Slice(b * seqLen, seqLen);
            rowIds.Clear();
            rowMask.Clear();
            e.Ids.CopyTo(rowIds);
            e.LossMask.CopyTo(rowMask);
        }
    }
}
