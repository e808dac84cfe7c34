using System.Net;
using Federated.Protocol.V1;
using Federated.Server.Host;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Federated.FunctionalTests;

/// <summary>The real host (AddFederationServer/MapFederationServer) on an in-memory TestServer (or, with kestrel: true,
/// on Kestrel over a real loopback socket, h2c) with a fake clock and a SQLite store in a temp directory.
/// <see cref="RestartAsync"/> stops the app and builds a new one on the same state.</summary>
internal sealed class TestFederationServer : IAsyncDisposable
{
    public const string EnrollToken = "test-enroll-token";
    private readonly Action<FederationServerOptions>? _configure;
    private readonly bool _kestrel;
    private WebApplication? _app;

    private TestFederationServer(Action<FederationServerOptions>? configure, bool kestrel)
    {
        _configure = configure;
        _kestrel = kestrel;
        DataDirectory = Path.Combine(Path.GetTempPath(), "federated-functional", Guid.NewGuid().ToString("N"));
        Time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    }

    public string DataDirectory { get; }
    public FakeTimeProvider Time { get; }
    /// <summary>The in-memory server (null on Kestrel).</summary>
    public TestServer Server { get; private set; } = null!;
    /// <summary>http://localhost/ (TestServer) or http://127.0.0.1:PORT/ (Kestrel).</summary>
    public Uri BaseAddress { get; private set; } = null!;
    public GrpcChannel Channel { get; private set; } = null!;
    public Federation.FederationClient Client { get; private set; } = null!;
    public Federated.Server.Storage.IFederationStore Store => _app!.Services.GetRequiredService<Federated.Server.Storage.IFederationStore>();

    public static async Task<TestFederationServer> StartAsync(Action<FederationServerOptions>? configure = null, bool kestrel = false)
    {
        var server = new TestFederationServer(configure, kestrel);
        await server.BuildAndStartAsync();
        return server;
    }

    private async Task BuildAndStartAsync()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        if (_kestrel) builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        else builder.WebHost.UseTestServer();
        builder.Services.AddSingleton<TimeProvider>(Time);
        builder.Services.AddFederationServer(o =>
        {
            o.DataDirectory = DataDirectory;
            o.Coordinator.EnrollmentTokens.Add(EnrollToken);
            o.Coordinator.Rounds = 3;
            o.Coordinator.ClientsPerRound = 2;
            o.Coordinator.MinClients = 2;
            o.FedKSeed.SeedCount = 64;
            o.FedKSeed.LocalSteps = 8;
            o.MaxMessageBytes = 16 * 1024;
            o.ModelChunkBytes = 4 * 1024;
            _configure?.Invoke(o);
        });
        _app = builder.Build();
        _app.MapFederationServer();
        await _app.StartAsync();
        if (_kestrel)
        {
            BaseAddress = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
            Channel = GrpcChannel.ForAddress(BaseAddress);
        }
        else
        {
            Server = _app.GetTestServer();
            BaseAddress = Server.BaseAddress;
            Channel = GrpcChannel.ForAddress(Server.BaseAddress, new GrpcChannelOptions { HttpHandler = Server.CreateHandler() });
        }
        Client = new Federation.FederationClient(Channel);
    }

    public async Task RestartAsync()
    {
        await StopAsync();
        await BuildAndStartAsync();
    }

    private async Task StopAsync()
    {
        Channel.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _app = null;
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }

    public async Task<Enrollment> EnrollAsync(string name) => await Client.EnrollAsync(new EnrollmentRequest
    {
        FormatVersion = 1,
        EnrollmentToken = EnrollToken,
        Client = new ClientInfo { Name = name, SupportedMethods = { TrainingMethod.Fedkseed } },
    });

    /// <summary>Enrolls each name for <paramref name="method"/> and polls once (so they count as connected); their bearers.</summary>
    public async Task<List<Metadata>> EnrollAndPollAsync(TrainingMethod method, params string[] names)
    {
        var bearers = new List<Metadata>();
        foreach (var name in names)
        {
            var e = await Client.EnrollAsync(new EnrollmentRequest
            {
                FormatVersion = 1, EnrollmentToken = EnrollToken, Client = new ClientInfo { Name = name, SupportedMethods = { method } },
            });
            bearers.Add(Bearer(e));
            await Client.GetTaskAsync(new TaskRequest { FormatVersion = 1 }, bearers[^1]);
        }
        return bearers;
    }

    /// <summary>ComPEFT on the tiny model: FFA-LoRA r = 2, α = 4 on q_proj, A from seed 9, n = <paramref name="elementCount"/>
    /// (the B tensors), uploads at <paramref name="density"/>, full checkpoints merged from <paramref name="model"/>.</summary>
    public static void TinyComPeft(FederationServerOptions o, string model, int elementCount, float density)
    {
        o.Method = Federated.Server.Domain.TrainingMethodKind.ComPeft;
        o.ComPeft.UpdateElementCount = elementCount;
        o.ComPeft.Rank = 2; o.ComPeft.Alpha = 4f; o.ComPeft.TargetModules = ["q_proj"]; o.ComPeft.Density = density; o.ComPeft.LoraASeed = 9;
        o.CheckpointSource = _ => new Federated.Server.Checkpoints.MergedModelCheckpointSource(model, o.ComPeft);
    }

    /// <summary>A plain HTTP/2 client for hand-made gRPC requests (raw frames, odd headers).</summary>
    public HttpClient CreateHttpClient()
    {
        var http = _kestrel ? new HttpClient() : Server.CreateClient();
        http.BaseAddress = BaseAddress;
        http.DefaultRequestVersion = HttpVersion.Version20;
        http.DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        return http;
    }

    public static Metadata Bearer(Enrollment enrollment) => new() { { "authorization", "Bearer " + enrollment.BearerToken } };

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try { Directory.Delete(DataDirectory, true); } catch (IOException) { }
    }
}
