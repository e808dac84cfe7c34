namespace Federated.Simulation.Federation;

/// <summary>Simulated time: a clock that stands at <paramref name="start"/>, so the coordinator's deadlines, liveness and
/// timestamps follow the simulation, never the wall clock (every client polls every round, so all stay connected and
/// no deadline passes).</summary>
internal sealed class SimulatedClock(DateTimeOffset start) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => start;
}
