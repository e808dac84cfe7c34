using Federated.Protocol.V1;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Federated.Server.Host;

/// <summary>
/// Per-client limits on the two RPCs that write state (Enroll, PushUpdate) with ASP.NET Core's rate-limiting middleware,
/// so a flood is refused before the request body is read or parsed. One fixed window of
/// <see cref="FederationServerOptions.RateLimitPermits"/> per partition: the `authorization` header (the client's bearer
/// token) for PushUpdate, the remote address for Enroll (no identity yet). No queueing. A refusal is a gRPC
/// trailers-only answer: HTTP 200, `grpc-status: 8` (RESOURCE_EXHAUSTED), a one-sentence `grpc-message` and
/// `grpc-retry-pushback-ms` (gRPC A6's server pushback: milliseconds until a retry may be admitted, the limiter's
/// RetryAfter, else the window). The pushback is what tells a client this RESOURCE_EXHAUSTED is transient; an
/// oversized message (also RESOURCE_EXHAUSTED) carries none and is final.
/// </summary>
internal static partial class FederationRateLimiting
{
    private const string EnrollPath = "/federated.v1.Federation/Enroll";
    private const string PushPath = "/federated.v1.Federation/PushUpdate";

    public static void Add(IServiceCollection services, FederationServerOptions options)
    {
        if (options.RateLimitPermits == 0) return;
        services.AddRateLimiter(o =>
        {
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                string path = context.Request.Path.Value ?? "";
                string? key = path == PushPath ? "bearer:" + context.Request.Headers.Authorization
                    : path == EnrollPath ? "address:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown")
                    : null;
                return key is null ? RateLimitPartition.GetNoLimiter("") : RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = options.RateLimitPermits, Window = options.RateLimitWindow, QueueLimit = 0, AutoReplenishment = true,
                });
            });
            o.OnRejected = (context, _) =>
            {
                var http = context.HttpContext;
                string message = $"Too many {http.Request.Path.Value?[(http.Request.Path.Value.LastIndexOf('/') + 1)..]} calls from this client: " +
                    $"the limit is {options.RateLimitPermits} per {options.RateLimitWindow}.";
                Rejected(http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(FederationRateLimiting)), http.Request.Path.Value ?? "", message);
                http.Response.StatusCode = StatusCodes.Status200OK;
                http.Response.ContentType = "application/grpc";
                http.Response.Headers["grpc-status"] = "8";
                http.Response.Headers["grpc-message"] = Uri.EscapeDataString(message);
                http.Response.Headers[FederationMetadata.RetryPushbackTrailer] = PushbackMilliseconds(context.Lease, options.RateLimitWindow);
                return ValueTask.CompletedTask;
            };
        });
    }

    /// <summary>The wait a refused client is told, in whole milliseconds rounded up, in [1, int.MaxValue] (A6's pushback is
    /// an int32): the lease's RetryAfter (a fixed window limiter reports its window), else <paramref name="window"/>.</summary>
    internal static string PushbackMilliseconds(RateLimitLease lease, TimeSpan window)
    {
        var wait = lease.TryGetMetadata(MetadataName.RetryAfter, out TimeSpan retryAfter) && retryAfter > TimeSpan.Zero ? retryAfter : window;
        return Math.Clamp(Math.Ceiling(wait.TotalMilliseconds), 1, int.MaxValue).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Adds the middleware when limits are configured; <paramref name="endpoints"/> must then be the app.</summary>
    public static void Use(IEndpointRouteBuilder endpoints, FederationServerOptions options)
    {
        if (options.RateLimitPermits == 0) return;
        if (endpoints is not IApplicationBuilder app)
            throw new InvalidOperationException("RateLimitPermits needs MapFederationServer to be called on the WebApplication (it adds the rate-limiting middleware).");
        app.UseRateLimiter();
    }

    [LoggerMessage(204, LogLevel.Warning, "{Method} refused: {Message}")]
    private static partial void Rejected(ILogger logger, string method, string message);
}
