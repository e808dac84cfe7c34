using Federated.Server.Coordination;
using Federated.Server.Domain;
using Federated.Server.Storage;
using Federated.Server.Strategies;
using Grpc.Health.V1;
using Grpc.HealthCheck;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Federated.Server.Host;

/// <summary>ASP.NET Core wiring in the usual shape: <c>builder.Services.AddFederationServer(o => …)</c>, then
/// <c>app.MapFederationServer()</c>.</summary>
public static class FederationServerExtensions
{
    /// <summary>Registers the coordinator, its store (<see cref="FederationServerOptions.Store"/>, which pins the
    /// federation's settings on first use and refuses other ones later: <see cref="FederationSettingsPin"/>) and strategy, gRPC (with the auth/status interceptor and
    /// the receive limit), gRPC health and reflection, and the background round ticker. A <see cref="TimeProvider"/>
    /// registered before this call is used (tests pass a FakeTimeProvider); otherwise the system clock.</summary>
    public static IServiceCollection AddFederationServer(this IServiceCollection services, Action<FederationServerOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var options = new FederationServerOptions();
        configure(options);
        options.Validate();
        services.AddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<IFederationStore>(_ =>
        {
            string location = options.Store
                ?? (options.DataDirectory is null ? FederationStores.Memory : FederationStores.InDataDirectory(options.DataDirectory));
            var store = FederationStores.Open(location);
            try
            {
                // Before anything reads the stored versions; errors name the file, not the location syntax.
                string name = location.StartsWith(FederationStores.SqlitePrefix, StringComparison.Ordinal) ? location[FederationStores.SqlitePrefix.Length..] : location;
                FederationSettingsPin.Apply(store, options, name);
            }
            catch
            {
                store.Dispose();
                throw;
            }
            return store;
        });
        services.AddSingleton<IFederationStrategy>(sp => options.StrategyFactory?.Invoke(sp) ?? options.Method switch
        {
            TrainingMethodKind.FedKSeed => new FedKSeedStrategy(options.FedKSeed),
            TrainingMethodKind.ComPeft => new ComPeftStrategy(options.ComPeft),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Method, "No built-in strategy for this method."),
        });
        services.AddSingleton(sp => new FederationCoordinator(sp.GetRequiredService<IFederationStore>(),
            sp.GetRequiredService<IFederationStrategy>(), options.Coordinator, sp.GetRequiredService<TimeProvider>(),
            sp.GetService<ILogger<FederationCoordinator>>()));
        services.AddSingleton(sp => new FullCheckpointCacheHolder(options.CheckpointSource is { } factory ? new FullCheckpointCache(factory(sp)) : null));
        services.AddSingleton<AuthInterceptor>();
        services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = options.MaxMessageBytes;
            o.MaxSendMessageSize = Math.Max(options.MaxMessageBytes, options.ModelChunkBytes + 64 * 1024);
            o.EnableDetailedErrors = false;
            o.Interceptors.Add<AuthInterceptor>();
        });
        services.AddGrpcReflection();
        services.AddSingleton<HealthServiceImpl>();
        services.AddHostedService<RoundTicker>();
        FederationRateLimiting.Add(services, options);
        return services;
    }

    /// <summary>Maps the Federation service, grpc.health.v1.Health, server reflection and GET /healthz (and, with
    /// RateLimitPermits &gt; 0, adds the rate-limiting middleware: call it on the WebApplication).</summary>
    public static IEndpointRouteBuilder MapFederationServer(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        FederationRateLimiting.Use(endpoints, endpoints.ServiceProvider.GetRequiredService<FederationServerOptions>());
        endpoints.MapGrpcService<FederationService>();
        endpoints.MapGrpcService<HealthServiceImpl>();
        endpoints.MapGrpcReflectionService();
        endpoints.MapGet("/healthz", (FederationCoordinator coordinator) =>
        {
            var status = coordinator.GetStatus();
            return Results.Ok(new { status = "ok", federation_id = status.FederationId, round = status.Round, model_version = status.ModelVersion });
        });
        var health = endpoints.ServiceProvider.GetRequiredService<HealthServiceImpl>();
        health.SetStatus("", HealthCheckResponse.Types.ServingStatus.Serving);
        health.SetStatus("federated.v1.Federation", HealthCheckResponse.Types.ServingStatus.Serving);
        return endpoints;
    }
}

/// <summary>Calls <see cref="FederationCoordinator.Tick"/> every TickInterval so deadlines pass and rounds open even
/// when no client calls. Uses the registered TimeProvider (a FakeTimeProvider in tests: then it ticks only when the
/// test advances the clock).</summary>
internal sealed partial class RoundTicker(FederationCoordinator coordinator, FederationServerOptions options, TimeProvider time,
    ILogger<RoundTicker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        HostLog.Ready(logger, coordinator.Method.ToString(), options.DataDirectory ?? "(memory)");
        using var timer = new PeriodicTimer(options.TickInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    coordinator.Tick();
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    TickFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(203, LogLevel.Error, "Round tick failed")]
    private static partial void TickFailed(ILogger logger, Exception exception);
}
