using Federated.Compression.Ternary;
using Federated.Core.Lora;
using Federated.Core.Models;
using Federated.Protocol.V1;
using Federated.Server.Checkpoints;
using Federated.Server.Coordination;
using Grpc.Core;
using Google.Protobuf;

namespace Federated.FunctionalTests;

/// <summary>One client must not be able to destroy the global model (issue #15 item 2). A raw gRPC client (the generated
/// stubs, no edge-client checks) pushes what an attacker would against the real host: FedKSeed scalars at float32's
/// maximum, a ComPEFT payload whose scale is float32's maximum, a sample_count of 2³¹−1. The first two are refused with
/// INVALID_ARGUMENT; the weight is capped at the documented maximum; afterwards the federation still aggregates and
/// every weight of the served full checkpoint is finite.</summary>
public sealed class PoisonedUpdateTests
{
    private const float FloatMax = 3.4e38f;

    [Fact]
    public async Task PushUpdate_FedKSeedScalarsAtFloatMaxThenMaxSampleCount_RefusedThenCappedAndModelFinite()
    {
        // Arrange
        string model = CliProcesses.Fixture("tiny-llama");
        await using var server = await TestFederationServer.StartAsync(o =>
        {
            o.FedKSeed.LearningRate = 1e-2f;
            o.CheckpointSource = _ => new MergedModelCheckpointSource(model, o.FedKSeed);
        });
        var a = await server.EnrollAsync("a");
        var b = await server.EnrollAsync("b");
        await server.Client.GetTaskAsync(new TaskRequest { FormatVersion = 1 }, TestFederationServer.Bearer(a));
        var task = await server.Client.GetTaskAsync(new TaskRequest { FormatVersion = 1 }, TestFederationServer.Bearer(b));
        ClientUpdate Update(ulong samples, float scalar, int steps) => new()
        {
            FormatVersion = 1, RoundId = task.RoundId, ModelVersion = task.ModelVersion, SampleCount = samples,
            SeedScalars = new SeedScalars { SeedIndices = { Enumerable.Repeat(3u, steps) }, Scalars = { Enumerable.Repeat(scalar, steps) } },
        };

        // Act: five scalars of 3.4e38 on one seed (the attack), then an in-bound update with the largest weight.
        var huge = await Assert.ThrowsAsync<RpcException>(async () =>
            await server.Client.PushUpdateAsync(Update(4, FloatMax, 5), TestFederationServer.Bearer(a)));
        await server.Client.PushUpdateAsync(Update(int.MaxValue, 1f, 1), TestFederationServer.Bearer(a));
        await server.Client.PushUpdateAsync(Update(1, -1f, 1), TestFederationServer.Bearer(b));
        var status = await server.Client.GetStatusAsync(new StatusRequest { FormatVersion = 1 }, TestFederationServer.Bearer(a));
        var chunks = new List<ModelChunk>();
        using (var call = server.Client.GetModel(new ModelRequest { FormatVersion = 1 }, TestFederationServer.Bearer(a)))
            await foreach (var chunk in call.ResponseStream.ReadAllAsync()) chunks.Add(chunk);
        var delta = Assert.Single(chunks);
        var checkpoint = await FullCheckpointAsync(server, a, model);

        // Assert
        Assert.True(task.Fedkseed.MaxAbsScalar > 0, "the task states the bound G");
        Assert.Equal(StatusCode.InvalidArgument, huge.StatusCode);
        Assert.Contains("max_abs_scalar", huge.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(1ul, status.ModelVersion);
        // H[3] = (w_a·1 + 1·(−1)) / (w_a + 1) with w_a = min(2³¹−1, the documented cap), not ≈ 1 as with w_a = 2³¹−1.
        double cap = new FederationCoordinatorOptions().MaxSampleWeight;
        var entry = Assert.Single(delta.SeedDelta.Entries());
        Assert.Equal(3, entry.SeedIndex);
        Assert.Equal((float)((cap - 1) / (cap + 1)), entry.Delta);
        Assert.All(checkpoint.Parameters, p => Assert.True(p.Data.ToArray().All(float.IsFinite), $"{p.Name} is not finite"));
    }

    [Fact]
    public async Task PushUpdate_ComPeftScaleAtFloatMax_InvalidArgumentAndMergedModelFinite()
    {
        // Arrange: FFA-LoRA r = 2 on q_proj, ternary uploads at density 0.25.
        string model = CliProcesses.Fixture("tiny-llama");
        var baseModel = CausalLm.Load(model);
        var adapter = LoraAdapter.Create(baseModel, new LoraConfig { Rank = 2, Alpha = 4f, TargetModules = ["q_proj"] }, 9);
        int n = LoraUpdateLayout.Create(adapter, freezeA: true).ElementCount;
        await using var server = await TestFederationServer.StartAsync(o => TestFederationServer.TinyComPeft(o, model, n, density: 0.25f));
        var bearers = await server.EnrollAndPollAsync(TrainingMethod.Compeft, "a", "b");
        var task = await server.Client.GetTaskAsync(new TaskRequest { FormatVersion = 1 }, bearers[0]);
        ClientUpdate Update(float magnitude)
        {
            // One non-zero element, least-squares scale: the payload's scale is exactly |magnitude|.
            var delta = new float[n];
            delta[n / 2] = magnitude;
            byte[] payload = TernaryCodec.Encode(delta, new TernaryOptions { Density = 0.25, ScaleMode = TernaryScaleMode.LeastSquares });
            return new ClientUpdate
            {
                FormatVersion = 1, RoundId = task.RoundId, ModelVersion = task.ModelVersion, SampleCount = 3,
                Compressed = new CompressedUpdate { Payload = ByteString.CopyFrom(payload) },
            };
        }

        // Act
        var huge = await Assert.ThrowsAsync<RpcException>(async () => await server.Client.PushUpdateAsync(Update(FloatMax), bearers[0]));
        foreach (var bearer in bearers) await server.Client.PushUpdateAsync(Update(1e-3f), bearer);
        var status = await server.Client.GetStatusAsync(new StatusRequest { FormatVersion = 1 }, bearers[0]);
        var checkpoint = await FullCheckpointAsync(server, bearers[1], model);

        // Assert
        Assert.True(task.Compeft.MaxUpdateElement > 0, "the task states the bound U");
        Assert.Equal(StatusCode.InvalidArgument, huge.StatusCode);
        Assert.Contains("max_update_element", huge.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(1ul, status.ModelVersion);
        Assert.All(checkpoint.Parameters, p => Assert.True(p.Data.ToArray().All(float.IsFinite), $"{p.Name} is not finite"));
    }

    /// <summary>GetModel full_checkpoint, loaded as a model.</summary>
    private static async Task<CausalLm> FullCheckpointAsync(TestFederationServer server, Metadata bearer, string model)
    {
        var chunks = new List<ModelChunk>();
        using (var call = server.Client.GetModel(new ModelRequest { FormatVersion = 1, FullCheckpoint = true }, bearer))
            await foreach (var chunk in call.ResponseStream.ReadAllAsync()) chunks.Add(chunk);
        string dir = Path.Combine(server.DataDirectory, "checkpoint");
        Directory.CreateDirectory(dir);
        File.Copy(Path.Combine(model, "config.json"), Path.Combine(dir, "config.json"));
        await File.WriteAllBytesAsync(Path.Combine(dir, "model.safetensors"), chunks.SelectMany(c => c.Data).ToArray());
        return CausalLm.Load(dir);
    }

    private static async Task<CausalLm> FullCheckpointAsync(TestFederationServer server, Enrollment client, string model) =>
        await FullCheckpointAsync(server, TestFederationServer.Bearer(client), model);
}
