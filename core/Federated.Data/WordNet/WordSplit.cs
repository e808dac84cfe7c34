using Federated.Core.Generation;

namespace Federated.Data.WordNet;

/// <summary>
/// Assigns a word to a split by hashing it, so every record of one word lands in the same split and the splits'
/// vocabularies are disjoint. bucket = FNV-1a-64(UTF-8 of "{seed}:{lowercase word}") mod 100
/// (word = the record's <c>word</c> field: WordNet's spelling with spaces for underscores);
/// buckets [0, pretrain) → Pretrain, then Train, Validation, and the rest → Test.
/// </summary>
/// <param name="Seed">Mixed into the hash; the committed dataset uses <see cref="DefaultSeed"/>.</param>
/// <param name="PretrainPercent">Share of words in Pretrain (default 40).</param>
/// <param name="TrainPercent">Share of words in Train (default 40).</param>
/// <param name="ValidationPercent">Share of words in Validation (default 10); Test gets the remainder.</param>
public sealed record WordSplit(int Seed = WordSplit.DefaultSeed, int PretrainPercent = 40, int TrainPercent = 40, int ValidationPercent = 10)
{
    /// <summary>The seed of the committed dataset.</summary>
    public const int DefaultSeed = 20240601;

    /// <summary>Throws when the percentages are negative or exceed 100 together.</summary>
    public void Validate()
    {
        if (PretrainPercent < 0) throw new ArgumentOutOfRangeException(nameof(PretrainPercent), "must be ≥ 0.");
        if (TrainPercent < 0) throw new ArgumentOutOfRangeException(nameof(TrainPercent), "must be ≥ 0.");
        if (ValidationPercent < 0) throw new ArgumentOutOfRangeException(nameof(ValidationPercent), "must be ≥ 0.");
        if (PretrainPercent + TrainPercent + ValidationPercent > 100)
            throw new ArgumentOutOfRangeException(nameof(ValidationPercent), "pretrain + train + validation percentages exceed 100.");
    }

    /// <summary>The split of a word (case-insensitive).</summary>
    public DataSplit Assign(string word)
    {
        int bucket = (int)(Fnv1a.Hash64($"{Seed}:{word.ToLowerInvariant()}") % 100);
        if (bucket < PretrainPercent) return DataSplit.Pretrain;
        if (bucket < PretrainPercent + TrainPercent) return DataSplit.Train;
        if (bucket < PretrainPercent + TrainPercent + ValidationPercent) return DataSplit.Validation;
        return DataSplit.Test;
    }

    /// <summary>The file-name stem of a split: pretrain, train, validation, test.</summary>
    public static string FileStem(DataSplit split) => split.ToString().ToLowerInvariant();
}
