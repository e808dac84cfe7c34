using Federated.Protocol.V1;
using Grpc.Core;

namespace Federated.FunctionalTests;

/// <summary>Per-client rate limits on Enroll and PushUpdate (ASP.NET Core rate limiting, 3 calls per 10-minute window,
/// so the window never rolls over during a test): the call after the limit is RESOURCE_EXHAUSTED, other clients and
/// other RPCs are unaffected.</summary>
public sealed class RateLimitTests
{
    private static async Task<StatusCode> CodeOf(Func<Task> call) => (await Assert.ThrowsAsync<RpcException>(call)).StatusCode;

    private static Task<TestFederationServer> StartAsync(bool kestrel) => TestFederationServer.StartAsync(o =>
    {
        o.RateLimitPermits = 3;
        o.RateLimitWindow = TimeSpan.FromMinutes(10);
    }, kestrel);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task PushUpdate_FourthCallOfOneClient_ResourceExhaustedOthersUnaffected(bool kestrel)
    {
        // Arrange: round 1 open for a and b.
        await using var server = await StartAsync(kestrel);
        var a = await server.EnrollAsync("a");
        var b = await server.EnrollAsync("b");
        await server.Client.GetTaskAsync(new TaskRequest { FormatVersion = 1 }, TestFederationServer.Bearer(a));
        var task = await server.Client.GetTaskAsync(new TaskRequest { FormatVersion = 1 }, TestFederationServer.Bearer(b));
        ClientUpdate Update(uint seed) => new()
        {
            FormatVersion = 1, RoundId = task.RoundId, ModelVersion = task.ModelVersion, SampleCount = 1,
            SeedScalars = new SeedScalars { SeedIndices = { seed }, Scalars = { 1f } },
        };

        // Act: a pushes once and retries twice (duplicates), then a fourth time; b pushes once.
        var receipts = new List<UpdateReceipt>();
        for (int i = 0; i < 3; i++) receipts.Add(await server.Client.PushUpdateAsync(Update(1), TestFederationServer.Bearer(a)));
        var ex = await Assert.ThrowsAsync<RpcException>(async () => await server.Client.PushUpdateAsync(Update(1), TestFederationServer.Bearer(a)));
        var statusCalls = new List<FederationStatus>();
        for (int i = 0; i < 5; i++) statusCalls.Add(await server.Client.GetStatusAsync(new StatusRequest { FormatVersion = 1 }, TestFederationServer.Bearer(a)));
        var fromB = await server.Client.PushUpdateAsync(Update(2), TestFederationServer.Bearer(b));

        // Assert
        Assert.Equal([false, true, true], receipts.Select(r => r.Duplicate));
        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.Contains("limit is 3", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(5, statusCalls.Count);
        Assert.False(fromB.Duplicate);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Enroll_FourthCallFromOneAddress_ResourceExhausted(bool kestrel)
    {
        // Arrange
        await using var server = await StartAsync(kestrel);

        // Act
        var first = await server.EnrollAsync("c0");
        for (int i = 1; i < 3; i++) await server.EnrollAsync($"c{i}");
        var fourth = await CodeOf(() => server.EnrollAsync("c3"));
        var status = await server.Client.GetStatusAsync(new StatusRequest { FormatVersion = 1 }, TestFederationServer.Bearer(first));

        // Assert
        Assert.Equal(StatusCode.ResourceExhausted, fourth);
        Assert.Equal(3u, status.EnrolledClients);
    }
}
