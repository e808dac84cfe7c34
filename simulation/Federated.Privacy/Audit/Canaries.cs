using Federated.Core.Generation;
using Federated.Data;

namespace Federated.Privacy.Audit;

/// <summary>
/// Synthetic canaries for membership inference (Carlini et al. 2019, "The Secret Sharer"): records that occur nowhere
/// else, in the built-in task's definition format, "Define: &lt;nonce&gt; (noun)" → "a &lt;adj&gt; &lt;noun&gt; that
/// &lt;verb&gt; &lt;place&gt; &lt;code&gt;". Members and non-members come from the same generator (one SplitMix64 stream
/// of the seed), so the two sets are matched in length and style; only membership differs.
/// </summary>
public static class Canaries
{
    private static readonly string[] Adjectives = ["silent", "amber", "hollow", "brisk", "woven", "crimson", "gentle", "frozen", "ancient", "restless", "narrow", "golden"];
    private static readonly string[] Nouns = ["lantern", "orchard", "compass", "harbor", "meadow", "violin", "furnace", "ledger", "pebble", "tapestry", "engine", "garden"];
    private static readonly string[] Verbs = ["hums", "drifts", "glows", "whispers", "folds", "wanders", "sparkles", "rattles", "sleeps", "turns"];
    private static readonly string[] Places = ["under the bridge", "near the mill", "beyond the hills", "inside the tower", "along the shore", "behind the barn"];

    /// <summary><paramref name="count"/> members and <paramref name="count"/> non-members, all distinct.</summary>
    public static (InstructionExample[] Members, InstructionExample[] NonMembers) Create(int count, ulong seed)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "--canaries must be at least 1.");
        var random = new SplitMix64(SplitMix64.Derive(seed, 0x43414E41)); // "CANA"
        var all = new List<InstructionExample>(2 * count);
        var words = new HashSet<string>(StringComparer.Ordinal);
        while (all.Count < 2 * count)
        {
            string word = Nonce(ref random);
            if (!words.Add(word)) continue;
            string response = $"a {Pick(Adjectives, ref random)} {Pick(Nouns, ref random)} that {Pick(Verbs, ref random)} {Pick(Places, ref random)} {Nonce(ref random)}";
            all.Add(new InstructionExample($"Define: {word} (noun)", "", response, "noun.artifact", "definition", word));
        }
        return ([.. all.Take(count)], [.. all.Skip(count)]);
    }

    // 6–9 lowercase letters, alternating consonant/vowel so the tokenizer sees word-like pieces.
    private static string Nonce(ref SplitMix64 random)
    {
        const string consonants = "bcdfghjklmnprstvz", vowels = "aeiou";
        int length = 6 + (int)(random.NextDouble() * 4);
        var chars = new char[length];
        for (int i = 0; i < length; i++)
        {
            string from = i % 2 == 0 ? consonants : vowels;
            chars[i] = from[(int)(random.NextDouble() * from.Length)];
        }
        return new string(chars);
    }

    private static string Pick(string[] from, ref SplitMix64 random) => from[(int)(random.NextDouble() * from.Length)];
}
