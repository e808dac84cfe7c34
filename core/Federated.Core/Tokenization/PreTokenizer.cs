namespace Federated.Core.Tokenization;

/// <summary>How a <c>Split</c> pre-tokenizer keeps the matched pieces (tokenizers' SplitDelimiterBehavior).</summary>
internal enum SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous }

/// <summary>
/// One step of a Hugging Face pre-tokenizer chain. Each step refines every current piece into smaller pieces;
/// pieces are slices (<see cref="ReadOnlyMemory{T}"/>) of the text, so splitting allocates no strings.
/// </summary>
internal abstract class PreTokenizerStep
{
    public abstract void Split(ReadOnlyMemory<char> piece, List<ReadOnlyMemory<char>> output);

    /// <summary>Runs a chain of steps over one text segment.</summary>
    public static void Run(IReadOnlyList<PreTokenizerStep> steps, ReadOnlyMemory<char> text, List<ReadOnlyMemory<char>> output,
        List<ReadOnlyMemory<char>> scratch)
    {
        output.Clear();
        if (text.IsEmpty) return;
        output.Add(text);
        foreach (var step in steps)
        {
            scratch.Clear();
            foreach (var piece in output) step.Split(piece, scratch);
            output.Clear();
            output.AddRange(scratch);
        }
    }
}

/// <summary><c>{"type": "Split", "pattern": {"Regex"|"String": …}, "behavior": …, "invert": …}</c>.</summary>
internal sealed class SplitStep(SplitPattern pattern, SplitBehavior behavior, bool invert) : PreTokenizerStep
{
    [ThreadStatic] private static List<(int Start, int End)>? t_matches;
    [ThreadStatic] private static List<(int Start, int End, bool IsMatch)>? t_segments;

    public override void Split(ReadOnlyMemory<char> piece, List<ReadOnlyMemory<char>> output)
    {
        var matches = t_matches ??= [];
        matches.Clear();
        pattern.FindMatches(piece.Span, matches);
        if (behavior == SplitBehavior.Isolated && !invert)
        {
            // Fast path (every Llama-3/GPT-2 chain): matches and the gaps between them, in order.
            int at = 0;
            foreach (var (start, end) in matches)
            {
                if (start > at) output.Add(piece[at..start]);
                output.Add(piece[start..end]);
                at = end;
            }
            if (at < piece.Length) output.Add(piece[at..]);
            return;
        }

        // Gaps and matches covering the piece, then tokenizers' fold for the behaviour (normalizer.rs `split`).
        var segments = t_segments ??= [];
        segments.Clear();
        int pos = 0;
        foreach (var (start, end) in matches)
        {
            if (start > pos) segments.Add((pos, start, invert));
            segments.Add((start, end, !invert));
            pos = end;
        }
        if (pos < piece.Length) segments.Add((pos, piece.Length, invert));

        var kept = new List<(int Start, int End)>(segments.Count);
        if (behavior == SplitBehavior.MergedWithNext)
        {
            bool previousMatch = false;
            for (int k = segments.Count - 1; k >= 0; k--)
            {
                var (start, end, isMatch) = segments[k];
                if (isMatch && !previousMatch && kept.Count > 0) kept[^1] = (start, kept[^1].End);
                else kept.Add((start, end));
                previousMatch = isMatch;
            }
            kept.Reverse();
        }
        else
        {
            bool previousMatch = false;
            foreach (var (start, end, isMatch) in segments)
            {
                bool merge = behavior switch
                {
                    SplitBehavior.MergedWithPrevious => isMatch && !previousMatch,
                    SplitBehavior.Contiguous => isMatch == previousMatch,
                    _ => false,
                };
                if (behavior == SplitBehavior.Removed && isMatch) { previousMatch = isMatch; continue; }
                if (merge && kept.Count > 0) kept[^1] = (kept[^1].Start, end);
                else kept.Add((start, end));
                previousMatch = isMatch;
            }
        }
        foreach (var (start, end) in kept) output.Add(piece[start..end]);
    }
}

/// <summary>
/// <c>{"type": "ByteLevel", "add_prefix_space", "use_regex"}</c>: optionally prepends a space to each piece that does
/// not start with one, then splits with GPT-2's pattern when use_regex. The byte → char mapping itself happens just
/// before the BPE model (it must be the last step of the chain).
/// </summary>
internal sealed class ByteLevelStep(bool addPrefixSpace, bool useRegex) : PreTokenizerStep
{
    private readonly SplitStep? _split = useRegex ? new SplitStep(SplitPattern.FromRegex(SplitPattern.Gpt2), SplitBehavior.Isolated, false) : null;

    public override void Split(ReadOnlyMemory<char> piece, List<ReadOnlyMemory<char>> output)
    {
        if (addPrefixSpace && (piece.IsEmpty || piece.Span[0] != ' ')) piece = (" " + piece.ToString()).AsMemory();
        if (_split is null) output.Add(piece);
        else _split.Split(piece, output);
    }
}
