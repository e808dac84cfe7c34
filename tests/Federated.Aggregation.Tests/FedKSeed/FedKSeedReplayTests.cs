using Federated.Aggregation.FedKSeed;
using Federated.Core.Seeds;
using Federated.TestKit;

namespace Federated.Aggregation.Tests.FedKSeed;

public class FedKSeedReplayTests
{
    private static readonly int[] TensorSizes = [37, 128, 5];

    private static float[][] Copy(float[][] w) => w.Select(t => (float[])t.Clone()).ToArray();

    private static void Step(float[][] w, ulong seed, float scale)
    {
        for (int t = 0; t < w.Length; t++) SeedNormal.AddScaled(seed, t, 0, w[t], scale);
    }

    [Fact]
    public void DeltaSince_ReplayedFromAnyVersion_EqualsWeightedFedAvgOfClientModels()
    {
        // Arrange: a 3-tensor model, K = 16 seeds, 3 rounds of 3 clients taking 6 local steps with made-up scalars g.
        const float lr = 0.01f;
        var pool = new SeedPool(99, 16);
        var random = new System.Random(3);
        var w0 = TensorSizes.Select(n => Enumerable.Range(0, n).Select(_ => (float)random.NextDouble() - 0.5f).ToArray()).ToArray();
        var accumulator = new FedKSeedAccumulator(pool.Count);
        var global = Copy(w0);
        var modelAtVersion = new List<float[][]> { Copy(w0) };

        for (int round = 1; round <= 3; round++)
        {
            var clients = new List<ClientScalars>();
            var fedAvg = TensorSizes.Select(n => new double[n]).ToArray();
            long[] samples = [random.Next(1, 50), random.Next(1, 50), random.Next(1, 50)];
            double total = samples.Sum();
            foreach (long n in samples)
            {
                // Client: local MeZO updates w ← w − η·g·z(seed) from the round's global model.
                var local = Copy(global);
                var steps = new List<SeedScalar>();
                for (int step = 0; step < 6; step++)
                {
                    int s = random.Next(pool.Count);
                    float g = (float)(random.NextDouble() * 4 - 2);
                    Step(local, pool[s], -lr * g);
                    steps.Add(new SeedScalar(s, g));
                }
                clients.Add(new ClientScalars(n, steps));
                for (int t = 0; t < local.Length; t++)
                for (int i = 0; i < local[t].Length; i++) fedAvg[t][i] += n / total * local[t][i];
            }

            // Act: the server accumulates; a fresh client replays from w₀; the previous-round model replays ΔH.
            accumulator.Apply(round, clients);
            var fromZero = Copy(w0);
            foreach (var d in accumulator.DeltaSince(0)) Step(fromZero, pool[d.SeedIndex], -lr * d.Value);
            var fromPrevious = Copy(modelAtVersion[round - 1]);
            foreach (var d in accumulator.DeltaSince(round - 1)) Step(fromPrevious, pool[d.SeedIndex], -lr * d.Value);

            // Assert: both equal FedAvg of the client models up to float32 rounding of the replays.
            for (int t = 0; t < TensorSizes.Length; t++)
            {
                var expected = fedAvg[t].Select(v => (float)v).ToArray();
                TensorAssert.Close(expected, fromZero[t], 2e-6, 1e-5, $"round {round} tensor {t} from version 0");
                TensorAssert.Close(expected, fromPrevious[t], 2e-6, 1e-5, $"round {round} tensor {t} from version {round - 1}");
            }
            global = fromZero;
            modelAtVersion.Add(fromPrevious);
        }
    }
}
