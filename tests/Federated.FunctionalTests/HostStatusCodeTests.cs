using Federated.Protocol.V1;
using Grpc.Core;

namespace Federated.FunctionalTests;

/// <summary>Every refusal path of the gRPC host gives the status code docs/protocol.md promises, and the server keeps
/// serving afterwards.</summary>
public sealed class HostStatusCodeTests
{
    private static async Task<(TestFederationServer Server, Enrollment A, Enrollment B, RoundTask Task)> OpenRoundAsync(
        Action<Federated.Server.Host.FederationServerOptions>? configure = null)
    {
        var server = await TestFederationServer.StartAsync(configure);
        var a = await server.EnrollAsync("a");
        var b = await server.EnrollAsync("b");
        await server.Client.GetTaskAsync(new TaskRequest { FormatVersion = 1 }, TestFederationServer.Bearer(a));
        await server.Client.GetTaskAsync(new TaskRequest { FormatVersion = 1 }, TestFederationServer.Bearer(b));
        var task = await server.Client.GetTaskAsync(new TaskRequest { FormatVersion = 1 }, TestFederationServer.Bearer(a));
        Assert.Equal(TaskAvailability.Assigned, task.Availability);
        return (server, a, b, task);
    }

    private static ClientUpdate Update(RoundTask task, uint[] seeds, float[] scalars, ulong samples = 4)
    {
        var update = new ClientUpdate
        {
            FormatVersion = 1, RoundId = task.RoundId, ModelVersion = task.ModelVersion, SampleCount = samples,
            SeedScalars = new SeedScalars(),
        };
        update.SeedScalars.SeedIndices.Add(seeds);
        update.SeedScalars.Scalars.Add(scalars);
        return update;
    }

    private static async Task<StatusCode> CodeOf(Func<Task> call)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(call);
        return ex.StatusCode;
    }

    [Fact]
    public async Task Enroll_UnknownToken_Unauthenticated()
    {
        // Arrange
        await using var server = await TestFederationServer.StartAsync();

        // Act
        var code = await CodeOf(async () => await server.Client.EnrollAsync(new EnrollmentRequest
        {
            FormatVersion = 1, EnrollmentToken = "nope", Client = new ClientInfo { Name = "x", SupportedMethods = { TrainingMethod.Fedkseed } },
        }));

        // Assert
        Assert.Equal(StatusCode.Unauthenticated, code);
    }

    [Fact]
    public async Task GetTask_MissingOrUnknownBearer_Unauthenticated()
    {
        // Arrange
        await using var server = await TestFederationServer.StartAsync();

        // Act
        var missing = await CodeOf(async () => await server.Client.GetTaskAsync(new TaskRequest { FormatVersion = 1 }));
        var unknown = await CodeOf(async () => await server.Client.GetTaskAsync(new TaskRequest { FormatVersion = 1 },
            new Metadata { { "authorization", "Bearer fk_forged" } }));

        // Assert
        Assert.Equal(StatusCode.Unauthenticated, missing);
        Assert.Equal(StatusCode.Unauthenticated, unknown);
    }

    [Fact]
    public async Task GetTask_OtherClientsId_PermissionDenied()
    {
        // Arrange
        await using var server = await TestFederationServer.StartAsync();
        var a = await server.EnrollAsync("a");
        var b = await server.EnrollAsync("b");

        // Act
        var code = await CodeOf(async () => await server.Client.GetTaskAsync(
            new TaskRequest { FormatVersion = 1, ClientId = b.ClientId }, TestFederationServer.Bearer(a)));

        // Assert
        Assert.Equal(StatusCode.PermissionDenied, code);
    }

    [Fact]
    public async Task GetStatus_UnsupportedFormatVersion_InvalidArgument()
    {
        // Arrange
        await using var server = await TestFederationServer.StartAsync();
        var a = await server.EnrollAsync("a");

        // Act
        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
            await server.Client.GetStatusAsync(new StatusRequest { FormatVersion = 2 }, TestFederationServer.Bearer(a)));

        // Assert
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains("format_version 2", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PushUpdate_MalformedPayloads_PreciseCodesAndServerStaysUp()
    {
        // Arrange
        var (server, a, _, task) = await OpenRoundAsync();
        await using var _s = server;
        var auth = TestFederationServer.Bearer(a);

        // Act
        var unknownSeed = await CodeOf(async () => await server.Client.PushUpdateAsync(Update(task, [64], [1f]), auth));
        var nan = await CodeOf(async () => await server.Client.PushUpdateAsync(Update(task, [1], [float.PositiveInfinity]), auth));
        var tooMany = await CodeOf(async () => await server.Client.PushUpdateAsync(Update(task, new uint[9], new float[9]), auth));
        var zeroSamples = await CodeOf(async () => await server.Client.PushUpdateAsync(Update(task, [1], [1f], samples: 0), auth));
        var noPayload = await CodeOf(async () => await server.Client.PushUpdateAsync(
            new ClientUpdate { FormatVersion = 1, RoundId = task.RoundId, SampleCount = 1 }, auth));
        var wrongMethod = await CodeOf(async () => await server.Client.PushUpdateAsync(new ClientUpdate
        {
            FormatVersion = 1, RoundId = task.RoundId, SampleCount = 1, Compressed = new CompressedUpdate { Payload = Google.Protobuf.ByteString.CopyFrom(1, 2, 3) },
        }, auth));
        var oversized = await CodeOf(async () => await server.Client.PushUpdateAsync(Update(task, new uint[5000], new float[5000]), auth));
        await server.Client.PushUpdateAsync(Update(task, [1], [1f]), auth);
        var stale = await CodeOf(async () => await server.Client.PushUpdateAsync(StaleCopy(task), auth));
        var status = await server.Client.GetStatusAsync(new StatusRequest { FormatVersion = 1 }, auth);

        // Assert
        Assert.Equal(StatusCode.InvalidArgument, unknownSeed);
        Assert.Equal(StatusCode.InvalidArgument, nan);
        Assert.Equal(StatusCode.InvalidArgument, tooMany);
        Assert.Equal(StatusCode.InvalidArgument, zeroSamples);
        Assert.Equal(StatusCode.InvalidArgument, noPayload);
        Assert.Equal(StatusCode.InvalidArgument, wrongMethod);
        Assert.Equal(StatusCode.ResourceExhausted, oversized);
        Assert.Equal(StatusCode.FailedPrecondition, stale);
        Assert.Equal(1u, status.UpdatesReceived);
    }

    private static ClientUpdate StaleCopy(RoundTask task)
    {
        var update = Update(task, [2], [1f]);
        update.RoundId = task.RoundId + 5;
        return update;
    }

    [Fact]
    public async Task PushUpdate_WrongBaseModel_FailedPreconditionAndUnsetInvalid()
    {
        // Arrange
        byte[] sha = Enumerable.Repeat((byte)7, 32).ToArray();
        var (server, a, _, task) = await OpenRoundAsync(o => o.BaseModel = new Federated.Server.Host.BaseModelIdentity(sha, sha, sha, "m", 1));
        await using var _s = server;
        var auth = TestFederationServer.Bearer(a);
        var wrong = Update(task, [1], [1f]);
        wrong.BaseModel = new BaseModelFingerprint { Sha256 = Google.Protobuf.ByteString.CopyFrom(new byte[32]) };

        // Act
        var mismatch = await CodeOf(async () => await server.Client.PushUpdateAsync(wrong, auth));
        var unset = await CodeOf(async () => await server.Client.PushUpdateAsync(Update(task, [1], [1f]), auth));

        // Assert
        Assert.Equal(StatusCode.FailedPrecondition, mismatch);
        Assert.Equal(StatusCode.InvalidArgument, unset);
        Assert.Equal(sha, task.BaseModel.Sha256.ToByteArray());
    }

    [Fact]
    public async Task PushUpdate_DuplicateAndConflict_DuplicateReceiptThenAlreadyExists()
    {
        // Arrange
        var (server, a, _, task) = await OpenRoundAsync();
        await using var _s = server;
        var auth = TestFederationServer.Bearer(a);
        var update = Update(task, [5, 6], [0.5f, -0.5f]);

        // Act
        var first = await server.Client.PushUpdateAsync(update, auth);
        var again = await server.Client.PushUpdateAsync(update, auth);
        var conflict = await CodeOf(async () => await server.Client.PushUpdateAsync(Update(task, [5], [9f]), auth));

        // Assert
        Assert.False(first.Duplicate);
        Assert.True(again.Duplicate);
        Assert.Equal(first.UpdateSha256, again.UpdateSha256);
        Assert.Equal(StatusCode.AlreadyExists, conflict);
    }

    [Fact]
    public async Task Reflection_ListServices_FederationAndItsFileDescriptor()
    {
        // Arrange: FederationService binds through FederationServiceBinder, whose Descriptor reflection must find.
        await using var server = await TestFederationServer.StartAsync();
        var reflection = new Grpc.Reflection.V1Alpha.ServerReflection.ServerReflectionClient(server.Channel);

        // Act
        using var call = reflection.ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new Grpc.Reflection.V1Alpha.ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.WriteAsync(new Grpc.Reflection.V1Alpha.ServerReflectionRequest { FileContainingSymbol = "federated.v1.Federation" });
        await call.RequestStream.CompleteAsync();
        var answers = new List<Grpc.Reflection.V1Alpha.ServerReflectionResponse>();
        await foreach (var answer in call.ResponseStream.ReadAllAsync()) answers.Add(answer);

        // Assert
        Assert.Equal(2, answers.Count);
        Assert.Contains("federated.v1.Federation", answers[0].ListServicesResponse.Service.Select(s => s.Name));
        Assert.NotEmpty(answers[1].FileDescriptorResponse.FileDescriptorProto);
    }

    [Fact]
    public async Task Healthz_Get_Ok()
    {
        // Arrange
        await using var server = await TestFederationServer.StartAsync();
        using var http = server.Server.CreateClient();

        // Act
        var response = await http.GetAsync(new Uri("/healthz", UriKind.Relative));

        // Assert
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("federation_id", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
