using System.Runtime.InteropServices;
using Federated.Client.Networking;
using Federated.Core.Lora;
using Federated.Core.Models;
using Federated.Core.Seeds;
using Federated.Core.ZerothOrder;
using Federated.Protocol.V1;
using Federated.Server.Checkpoints;
using Grpc.Core;

namespace Federated.FunctionalTests;

/// <summary>GetModel's FULL_CHECKPOINT form: after one FedKSeed round the server streams the merged model as
/// safetensors in chunks with a SHA-256; the client's channel checks offsets, size and hash; the file loads as a model
/// equal to the base weights with the round's ΔH replayed (ΔH worked out by hand from the two pushes).</summary>
public sealed class FullCheckpointTests : IDisposable
{
    private const float LearningRate = 1e-2f;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "federated-checkpoint", Guid.NewGuid().ToString("N"));

    private static async Task<(TestFederationServer Server, FederationChannel Channel)> OneRoundAsync(bool withSource)
    {
        string model = CliProcesses.Fixture("tiny-llama");
        var server = await TestFederationServer.StartAsync(o =>
        {
            o.FedKSeed.LearningRate = LearningRate;
            if (withSource) o.CheckpointSource = _ => new MergedModelCheckpointSource(model, o.FedKSeed);
        });
        var a = await server.EnrollAsync("a");
        var b = await server.EnrollAsync("b");
        await server.Client.GetTaskAsync(new TaskRequest { FormatVersion = 1 }, TestFederationServer.Bearer(a));
        var task = await server.Client.GetTaskAsync(new TaskRequest { FormatVersion = 1 }, TestFederationServer.Bearer(b));
        foreach (var (who, seed) in new[] { (a, 3u), (b, 5u) })
            await server.Client.PushUpdateAsync(new ClientUpdate
            {
                FormatVersion = 1, RoundId = task.RoundId, ModelVersion = task.ModelVersion, SampleCount = 2,
                SeedScalars = new SeedScalars { SeedIndices = { seed }, Scalars = { 1f } },
            }, TestFederationServer.Bearer(who));
        var channel = FederationChannel.Create(server.BaseAddress, new FederationChannelOptions { MaxRetryAttempts = 0 }, handler: server.Server.CreateHandler());
        channel.BearerToken = a.BearerToken;
        return (server, channel);
    }

    [Fact]
    public async Task GetModel_FullCheckpointAfterOneRound_VerifiedChunksLoadAsTheReplayedModel()
    {
        // Arrange
        var (server, channel) = await OneRoundAsync(withSource: true);
        await using var _ = server;
        using var __ = channel;

        // Act
        var download = await channel.GetModelAsync(new ModelRequest { FormatVersion = 1, FullCheckpoint = true }, CancellationToken.None);
        var resumed = await channel.GetModelAsync(new ModelRequest { FormatVersion = 1, FullCheckpoint = true, ResumeOffset = 100_000 }, CancellationToken.None);
        Directory.CreateDirectory(_directory);
        File.Copy(Path.Combine(CliProcesses.Fixture("tiny-llama"), "config.json"), Path.Combine(_directory, "config.json"));
        await File.WriteAllBytesAsync(Path.Combine(_directory, "model.safetensors"), download.Payload);
        float[] served = CausalLm.Load(_directory).Weights.ToArray();

        // Assert: H[3] = H[5] = (2/4)·1 = 0.5, so θ = θ₀ − η·0.5·(z₃ + z₅) in ascending seed order.
        var expected = CausalLm.Load(CliProcesses.Fixture("tiny-llama"));
        SeedPerturbation.Replay(expected, TrainableSet.All(expected.Parameters), SeedPool.Derive(42, 64),
            [new SeedScalar(3, 0.5f), new SeedScalar(5, 0.5f)], LearningRate);
        Assert.Equal(ModelPayloadKind.FullCheckpoint, download.Last.Kind);
        Assert.Equal(1ul, download.Last.ModelVersion);
        Assert.True(download.Payload.Length > 4 * 4096, "the checkpoint should span many 4 KiB chunks");
        Assert.Equal((ulong)download.Payload.Length, download.Last.TotalBytes);
        Assert.True(MemoryMarshal.AsBytes(expected.Weights).SequenceEqual(MemoryMarshal.AsBytes(served.AsSpan())));
        Assert.Equal(download.Payload[100_000..], resumed.Payload);
    }

    [Fact]
    public async Task GetModel_ComPeftFullCheckpoint_BaseWeightsPlusScaledBTimesA()
    {
        // Arrange: FFA-LoRA r = 2, α = 4 (scaling 2) on q_proj; both clients push the same dense B update u, so the
        // weighted mean is u exactly (0.5·u + 0.5·u).
        string model = CliProcesses.Fixture("tiny-llama");
        var baseModel = CausalLm.Load(model);
        var config = new LoraConfig { Rank = 2, Alpha = 4f, TargetModules = ["q_proj"] };
        var adapter = LoraAdapter.Create(baseModel, config, 9);
        var layout = LoraUpdateLayout.Create(adapter, freezeA: true);
        float[] u = [.. Enumerable.Range(0, layout.ElementCount).Select(j => 0.01f * ((j % 7) - 3))];
        await using var server = await TestFederationServer.StartAsync(o => TestFederationServer.TinyComPeft(o, model, layout.ElementCount, density: 1f));
        var bearers = await server.EnrollAndPollAsync(TrainingMethod.Compeft, "a", "b");
        var task = await server.Client.GetTaskAsync(new TaskRequest { FormatVersion = 1 }, bearers[0]);
        foreach (var bearer in bearers)
            await server.Client.PushUpdateAsync(new ClientUpdate
            {
                FormatVersion = 1, RoundId = task.RoundId, ModelVersion = task.ModelVersion, SampleCount = 3,
                Compressed = new CompressedUpdate { Payload = Google.Protobuf.ByteString.CopyFrom(Federated.Compression.Dense.DenseUpdateCodec.Encode(u)) },
            }, bearer);

        // Act
        var chunks = new List<ModelChunk>();
        using (var call = server.Client.GetModel(new ModelRequest { FormatVersion = 1, FullCheckpoint = true }, bearers[1]))
            await foreach (var chunk in call.ResponseStream.ReadAllAsync()) chunks.Add(chunk);
        byte[] payload = [.. chunks.SelectMany(c => c.Data)];
        Directory.CreateDirectory(_directory);
        File.Copy(Path.Combine(model, "config.json"), Path.Combine(_directory, "config.json"));
        await File.WriteAllBytesAsync(Path.Combine(_directory, "model.safetensors"), payload);
        var served = CausalLm.Load(_directory);

        // Assert: W_q' = W_q + 2·B·A in double (B = u scattered into the adapter's B tensors), every other tensor unchanged.
        layout.AddTo(adapter, u);
        var byName = served.Parameters.ToDictionary(p => p.Name);
        var targets = adapter.Modules.ToDictionary(m => m.ModulePath + ".weight");
        Assert.Equal(System.Security.Cryptography.SHA256.HashData(payload), chunks[0].Sha256.ToByteArray());
        Assert.All(chunks, c => Assert.Equal(ModelPayloadKind.FullCheckpoint, c.Kind));
        Assert.NotEmpty(targets);
        Assert.All(targets.Keys, name => Assert.Contains(name, byName.Keys));
        foreach (var p in baseModel.Parameters)
        {
            var actual = byName[p.Name].Data;
            if (!targets.TryGetValue(p.Name, out var m))
            {
                Assert.True(actual.SequenceEqual(p.Data), $"{p.Name} changed");
                continue;
            }
            int outDim = p.Shape[0], inDim = p.Shape[1], r = m.Rank;
            double maxDiff = 0;
            for (int o = 0; o < outDim; o++)
                for (int i = 0; i < inDim; i++)
                {
                    double ba = 0;
                    for (int k = 0; k < r; k++) ba += (double)m.B.Data[o * r + k] * m.A.Data[k * inDim + i];
                    maxDiff = Math.Max(maxDiff, Math.Abs(p.Data[o * inDim + i] + 2 * ba - actual[o * inDim + i]));
                }
            Assert.True(maxDiff < 1e-6, $"{p.Name}: max |diff| {maxDiff}");
        }
    }

    [Fact]
    public async Task GetModel_FullCheckpointWithoutSource_FailedPrecondition()
    {
        // Arrange
        var (server, channel) = await OneRoundAsync(withSource: false);
        await using var _ = server;
        using var __ = channel;

        // Act
        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            channel.GetModelAsync(new ModelRequest { FormatVersion = 1, FullCheckpoint = true }, CancellationToken.None));

        // Assert
        Assert.Equal(StatusCode.FailedPrecondition, ex.StatusCode);
    }

    public void Dispose()
    {
        try { Directory.Delete(_directory, true); } catch (IOException) { }
    }
}
