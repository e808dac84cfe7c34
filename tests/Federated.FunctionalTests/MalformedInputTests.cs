using System.Buffers.Binary;
using System.Net.Http.Headers;
using Federated.Protocol.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Federated.FunctionalTests;

/// <summary>
/// Malformed input over the wire, hand-made at the HTTP/2 level (gRPC frame = 1 flag byte, 4-byte big-endian length,
/// message), against the real host on the in-memory TestServer and on Kestrel over a loopback socket. Each case checks
/// the exact gRPC status and that a valid call right after it still succeeds (the server stays up, nothing is stored).
/// </summary>
public sealed class MalformedInputTests
{
    private const int MaxMessageBytes = 16 * 1024;   // TestFederationServer's limit

    /// <summary>Two enrolled clients, round 1 open, and a valid PushUpdate body of client a.</summary>
    private static async Task<(TestFederationServer Server, Enrollment A, ClientUpdate Valid)> OpenRoundAsync(bool kestrel)
    {
        var server = await TestFederationServer.StartAsync(kestrel: kestrel);
        var a = await server.EnrollAsync("a");
        var b = await server.EnrollAsync("b");
        await server.Client.GetTaskAsync(new TaskRequest { FormatVersion = 1 }, TestFederationServer.Bearer(a));
        await server.Client.GetTaskAsync(new TaskRequest { FormatVersion = 1 }, TestFederationServer.Bearer(b));
        var task = await server.Client.GetTaskAsync(new TaskRequest { FormatVersion = 1 }, TestFederationServer.Bearer(a));
        Assert.Equal(TaskAvailability.Assigned, task.Availability);
        var valid = new ClientUpdate
        {
            FormatVersion = 1, RoundId = task.RoundId, ModelVersion = task.ModelVersion, SampleCount = 4,
            SeedScalars = new SeedScalars { SeedIndices = { 1, 2, 3 }, Scalars = { 1f, 2f, 3f } },
        };
        return (server, a, valid);
    }

    /// <summary>One gRPC frame: flag, big-endian length (declared, may differ from the bytes that follow), body.</summary>
    private static byte[] Frame(ReadOnlySpan<byte> body, byte flag = 0, int? declaredLength = null)
    {
        var frame = new byte[5 + body.Length];
        frame[0] = flag;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)(declaredLength ?? body.Length));
        body.CopyTo(frame.AsSpan(5));
        return frame;
    }

    /// <summary>POSTs raw bytes to a Federation method; returns grpc-status (trailers, or headers for a trailers-only
    /// answer; null when absent), grpc-message and the HTTP status.</summary>
    private static async Task<(StatusCode? Code, string Message, int Http)> SendRawAsync(TestFederationServer server, string method,
        byte[] content, string? authorization, string contentType = "application/grpc")
    {
        using var http = server.CreateHttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri($"/federated.v1.Federation/{method}", UriKind.Relative))
        {
            Content = new ByteArrayContent(content), Version = http.DefaultRequestVersion, VersionPolicy = http.DefaultVersionPolicy,
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        request.Headers.TE.Add(new TransferCodingWithQualityHeaderValue("trailers"));
        if (authorization is not null) request.Headers.TryAddWithoutValidation("authorization", authorization);
        using var response = await http.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();
        string? Header(string name) =>
            response.TrailingHeaders.TryGetValues(name, out var t) ? t.First()
            : response.Headers.TryGetValues(name, out var h) ? h.First() : null;
        string? status = Header("grpc-status");
        return (status is null ? null : (StatusCode)int.Parse(status, System.Globalization.CultureInfo.InvariantCulture),
            Uri.UnescapeDataString(Header("grpc-message") ?? ""), (int)response.StatusCode);
    }

    private static string Bearer(Enrollment e) => "Bearer " + e.BearerToken;

    /// <summary>The follow-up valid call: the push is accepted and the round has exactly that one update.</summary>
    private static async Task AssertValidPushAcceptedAsync(TestFederationServer server, Enrollment a, ClientUpdate valid)
    {
        var receipt = await server.Client.PushUpdateAsync(valid, TestFederationServer.Bearer(a));
        var status = await server.Client.GetStatusAsync(new StatusRequest { FormatVersion = 1 }, TestFederationServer.Bearer(a));
        Assert.False(receipt.Duplicate);
        Assert.Equal(1u, status.UpdatesReceived);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task PushUpdate_UndecodableProtobuf_InvalidArgumentAndServerStaysUp(bool kestrel)
    {
        // Arrange: a valid frame around bytes that are not a ClientUpdate: an invalid tag (field 0), a varint that never
        // ends, a length-delimited field longer than the message, and a valid update cut 3 bytes short.
        var (server, a, valid) = await OpenRoundAsync(kestrel);
        await using var _ = server;
        byte[] whole = valid.ToByteArray();
        byte[][] bodies = [[0x00, 0x01], [0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], [0x12, 0x40, 0x41], whole[..^3]];

        // Act
        var results = new List<(StatusCode? Code, string Message, int Http)>();
        foreach (var body in bodies) results.Add(await SendRawAsync(server, "PushUpdate", Frame(body), Bearer(a)));

        // Assert
        Assert.All(results, r => Assert.Equal(StatusCode.InvalidArgument, r.Code));
        Assert.All(results, r => Assert.Contains("not a valid ClientUpdate", r.Message, StringComparison.Ordinal));
        await AssertValidPushAcceptedAsync(server, a, valid);
    }

    [Theory]
    [InlineData("Enroll", false)]
    [InlineData("GetTask", true)]
    [InlineData("GetModel", true)]
    [InlineData("GetStatus", true)]
    public async Task OtherMethods_UndecodableProtobuf_InvalidArgument(string method, bool kestrel)
    {
        // Arrange: GetModel is server-streaming, the others unary; all share the strict request marshaller.
        var (server, a, valid) = await OpenRoundAsync(kestrel);
        await using var _ = server;

        // Act
        var result = await SendRawAsync(server, method, Frame([0x0A, 0x05, 0x01]), Bearer(a));

        // Assert
        Assert.Equal(StatusCode.InvalidArgument, result.Code);
        await AssertValidPushAcceptedAsync(server, a, valid);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task PushUpdate_WrongMessageTypes_InvalidArgumentAndServerStaysUp(bool kestrel)
    {
        // Arrange: well-formed protobuf of other types. A TaskRequest parses as a ClientUpdate without payload; a
        // message whose field 8 (seed_scalars) is a varint instead of a message keeps it as an unknown field (proto3
        // skips a field whose wire type does not match), so it too has no payload; a StatusRequest has no round.
        var (server, a, valid) = await OpenRoundAsync(kestrel);
        await using var _ = server;
        byte[][] bodies =
        [
            new TaskRequest { FormatVersion = 1, ModelVersion = 0 }.ToByteArray(),
            [0x08, 0x01, 0x18, 0x01, 0x30, 0x04, 0x40, 0x05],
            new StatusRequest { FormatVersion = 1 }.ToByteArray(),
        ];

        // Act
        var results = new List<(StatusCode? Code, string Message, int Http)>();
        foreach (var body in bodies) results.Add(await SendRawAsync(server, "PushUpdate", Frame(body), Bearer(a)));

        // Assert
        Assert.All(results, r => Assert.Equal(StatusCode.InvalidArgument, r.Code));
        await AssertValidPushAcceptedAsync(server, a, valid);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task PushUpdate_TruncatedFrame_InternalAndServerStaysUp(bool kestrel)
    {
        // Arrange: the frame header promises 64 bytes, the stream ends after 10 (gRPC's framing layer answers INTERNAL
        // "Incomplete message." before any message is parsed; gRPC status-code spec: framing errors are INTERNAL).
        var (server, a, valid) = await OpenRoundAsync(kestrel);
        await using var _ = server;
        byte[] whole = valid.ToByteArray();

        // Act
        var cutBody = await SendRawAsync(server, "PushUpdate", Frame(whole.AsSpan(0, 10), declaredLength: 64), Bearer(a));
        var cutHeader = await SendRawAsync(server, "PushUpdate", [0x00, 0x00, 0x00], Bearer(a));

        // Assert
        Assert.Equal(StatusCode.Internal, cutBody.Code);
        Assert.Equal("Incomplete message.", cutBody.Message);
        Assert.Equal(StatusCode.Internal, cutHeader.Code);
        await AssertValidPushAcceptedAsync(server, a, valid);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task PushUpdate_FrameAboveReceiveLimit_ResourceExhaustedAndServerStaysUp(bool kestrel)
    {
        // Arrange: one frame that declares (and carries) MaxMessageBytes + 1 bytes; one that only declares 1 GiB.
        var (server, a, valid) = await OpenRoundAsync(kestrel);
        await using var _ = server;

        // Act
        var carried = await SendRawAsync(server, "PushUpdate", Frame(new byte[MaxMessageBytes + 1]), Bearer(a));
        var declared = await SendRawAsync(server, "PushUpdate", Frame([1, 2, 3], declaredLength: 1 << 30), Bearer(a));

        // Assert
        Assert.Equal(StatusCode.ResourceExhausted, carried.Code);
        Assert.Equal(StatusCode.ResourceExhausted, declared.Code);
        await AssertValidPushAcceptedAsync(server, a, valid);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task PushUpdate_GarbageFrameHeaders_RefusedWithPreciseCodesAndServerStaysUp(bool kestrel)
    {
        // Arrange: compressed flag 1 without a grpc-encoding header (INTERNAL, as gRPC specifies), and a body that is
        // not gRPC at all under a JSON content type (HTTP 415 with grpc-status INTERNAL from Grpc.AspNetCore).
        var (server, a, valid) = await OpenRoundAsync(kestrel);
        await using var _ = server;

        // Act
        var compressed = await SendRawAsync(server, "PushUpdate", Frame(valid.ToByteArray(), flag: 1), Bearer(a));
        var json = await SendRawAsync(server, "PushUpdate", "{\"round_id\": 1}"u8.ToArray(), Bearer(a), "application/json");

        // Assert
        Assert.Equal(StatusCode.Internal, compressed.Code);
        Assert.Equal(415, json.Http);
        Assert.Equal(StatusCode.Internal, json.Code);
        await AssertValidPushAcceptedAsync(server, a, valid);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AllMethods_BadBearerTokens_UnauthenticatedAndServerStaysUp(bool kestrel)
    {
        // Arrange: no header, another scheme, an empty bearer, a forged one and a truncated real one, on every
        // authenticated method (GetModel streams), each with a body that would otherwise be valid.
        var (server, a, valid) = await OpenRoundAsync(kestrel);
        await using var _ = server;
        string?[] headers = [null, "Basic " + a.BearerToken, "Bearer ", "Bearer fk_forged", Bearer(a)[..^4]];
        (string Method, byte[] Body)[] calls =
        [
            ("GetTask", new TaskRequest { FormatVersion = 1 }.ToByteArray()),
            ("GetModel", new ModelRequest { FormatVersion = 1 }.ToByteArray()),
            ("PushUpdate", valid.ToByteArray()),
            ("GetStatus", new StatusRequest { FormatVersion = 1 }.ToByteArray()),
        ];

        // Act
        var codes = new List<StatusCode?>();
        foreach (var (method, body) in calls)
            foreach (var header in headers)
                codes.Add((await SendRawAsync(server, method, Frame(body), header)).Code);

        // Assert
        Assert.Equal(calls.Length * headers.Length, codes.Count);
        Assert.All(codes, c => Assert.Equal(StatusCode.Unauthenticated, c));
        await AssertValidPushAcceptedAsync(server, a, valid);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Enroll_BadEnrollmentTokens_UnauthenticatedAndServerStaysUp(bool kestrel)
    {
        // Arrange
        var (server, a, valid) = await OpenRoundAsync(kestrel);
        await using var _ = server;
        string[] tokens = ["", "nope", TestFederationServer.EnrollToken + "x", TestFederationServer.EnrollToken[..^1]];

        // Act
        var codes = new List<StatusCode?>();
        foreach (var token in tokens)
        {
            var request = new EnrollmentRequest
            {
                FormatVersion = 1, EnrollmentToken = token, Client = new ClientInfo { Name = "c", SupportedMethods = { TrainingMethod.Fedkseed } },
            };
            codes.Add((await SendRawAsync(server, "Enroll", Frame(request.ToByteArray()), null)).Code);
        }

        // Assert
        Assert.All(codes, c => Assert.Equal(StatusCode.Unauthenticated, c));
        await AssertValidPushAcceptedAsync(server, a, valid);
    }
}
