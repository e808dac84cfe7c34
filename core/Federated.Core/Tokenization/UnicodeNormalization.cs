using System.Text;

namespace Federated.Core.Tokenization;

/// <summary>
/// Canonical Unicode normalization (NFD, NFC; UAX #15) from our own tables, so that NFC tokenizers (Qwen2/3) give
/// Hugging Face's ids even under InvariantGlobalization, where .NET's string.Normalize returns its input unchanged.
/// NFD: full canonical decomposition (recursive tables + Hangul arithmetic), then canonical ordering of combining
/// marks (stable by combining class). NFC: NFD, then canonical composition (a mark composes with the last starter
/// unless blocked by a mark of equal or higher class in between). Cost: one dictionary probe per code point;
/// ASCII text returns at once.
/// </summary>
internal static partial class UnicodeNormalization
{
    private const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7;
    private const int LCount = 19, VCount = 21, TCount = 28, NCount = VCount * TCount, SCount = LCount * NCount;

    private static readonly Dictionary<int, int> CombiningClass;
    private static readonly Dictionary<int, int[]> Decompositions;
    private static readonly Dictionary<long, int> Compositions;

    // Built in the static constructor: it runs after every field initializer, including the data arrays of the
    // generated partial file (initializers of different partial files have no defined order between them).
#pragma warning disable CA1810
    static UnicodeNormalization()
    {
        CombiningClass = BuildCcc();
        Decompositions = BuildDecompositions();
        Compositions = BuildCompositions();
    }
#pragma warning restore CA1810

    public static string Normalize(string text, bool compose)
    {
        if (Ascii.IsValid(text)) return text;
        var buffer = new List<int>(text.Length + 8);
        foreach (var rune in text.EnumerateRunes()) Decompose(rune.Value, buffer);
        Reorder(buffer);
        if (compose) Compose(buffer);
        var sb = new StringBuilder(buffer.Count);
        foreach (int cp in buffer) sb.Append(new Rune(cp).ToString());
        return sb.ToString();
    }

    public static int Ccc(int cp) => cp < 0x300 ? 0 : CombiningClass.GetValueOrDefault(cp);

    private static void Decompose(int cp, List<int> output)
    {
        if (cp is >= SBase and < SBase + SCount)
        {
            int s = cp - SBase;
            output.Add(LBase + s / NCount);
            output.Add(VBase + s % NCount / TCount);
            if (s % TCount != 0) output.Add(TBase + s % TCount);
            return;
        }
        if (cp >= 0xC0 && Decompositions.TryGetValue(cp, out var parts))
        {
            foreach (int p in parts) Decompose(p, output);
            return;
        }
        output.Add(cp);
    }

    // Stable insertion sort of each run of non-starters by combining class.
    private static void Reorder(List<int> cps)
    {
        for (int i = 1; i < cps.Count; i++)
        {
            int ccc = Ccc(cps[i]);
            if (ccc == 0) continue;
            int j = i;
            int cp = cps[i];
            while (j > 0 && Ccc(cps[j - 1]) > ccc)
            {
                cps[j] = cps[j - 1];
                j--;
            }
            cps[j] = cp;
        }
    }

    private static void Compose(List<int> cps)
    {
        if (cps.Count < 2) return;
        int starterPos = 0;
        int lastClass = Ccc(cps[0]) == 0 ? 0 : 256; // a leading mark blocks everything after it
        int write = 1;
        for (int read = 1; read < cps.Count; read++)
        {
            int cp = cps[read];
            int ccc = Ccc(cp);
            if ((lastClass < ccc || lastClass == 0) && lastClass != 256 && TryCompose(cps[starterPos], cp, out int composite))
            {
                cps[starterPos] = composite;
                continue;
            }
            if (ccc == 0) { starterPos = write; lastClass = 0; }
            else lastClass = ccc;
            cps[write++] = cp;
        }
        cps.RemoveRange(write, cps.Count - write);
    }

    private static bool TryCompose(int first, int second, out int composite)
    {
        if (first is >= LBase and < LBase + LCount && second is >= VBase and < VBase + VCount)
        {
            composite = SBase + ((first - LBase) * VCount + second - VBase) * TCount;
            return true;
        }
        if (first is >= SBase and < SBase + SCount && (first - SBase) % TCount == 0 && second is > TBase and < TBase + TCount)
        {
            composite = first + second - TBase;
            return true;
        }
        return Compositions.TryGetValue(((long)first << 21) | (uint)second, out composite);
    }

    private static Dictionary<int, int> BuildCcc()
    {
        var map = new Dictionary<int, int>(CccData.Length / 2);
        for (int i = 0; i < CccData.Length; i += 2) map[CccData[i]] = CccData[i + 1];
        return map;
    }

    private static Dictionary<int, int[]> BuildDecompositions()
    {
        var map = new Dictionary<int, int[]>(2100);
        for (int i = 0; i < DecompositionData.Length;)
        {
            int cp = DecompositionData[i], n = DecompositionData[i + 1];
            map[cp] = DecompositionData[(i + 2)..(i + 2 + n)];
            i += 2 + n;
        }
        return map;
    }

    private static Dictionary<long, int> BuildCompositions()
    {
        var map = new Dictionary<long, int>(CompositionData.Length / 3);
        for (int i = 0; i < CompositionData.Length; i += 3)
            map[((long)CompositionData[i] << 21) | (uint)CompositionData[i + 1]] = CompositionData[i + 2];
        return map;
    }
}
