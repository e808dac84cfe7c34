using Federated.Data.Training;

namespace Federated.Data.Pretraining;

/// <summary>
/// The floor a language model must beat: a unigram model p(t) = (c_t + 1) / (N + V) (add-one smoothing over the
/// vocabulary V, counts c from the pretraining stream of N tokens), scored like <see cref="Evaluation.TaskEvaluator"/>'s
/// loss: mean −ln p over the response tokens and EOS of each example (the loss mask of <see cref="ExampleEncoder"/>).
/// </summary>
public static class UnigramBaseline
{
    /// <summary>Mean negative log-likelihood in nats per target token.</summary>
    public static double Loss(long[] counts, ExampleEncoder encoder, IEnumerable<InstructionExample> examples)
    {
        long total = counts.Sum();
        double logDenominator = Math.Log(total + (double)counts.Length);
        double sum = 0;
        long tokens = 0;
        foreach (var example in examples)
        {
            var tokenized = encoder.Encode(example);
            // The loss of position t predicts id t+1, so target tokens are the masked ids after the first position.
            for (int t = 1; t < tokenized.Ids.Length; t++)
            {
                if (!tokenized.LossMask[t]) continue;
                sum += logDenominator - Math.Log(counts[tokenized.Ids[t]] + 1.0);
                tokens++;
            }
        }
        return tokens > 0 ? sum / tokens : double.NaN;
    }
}
