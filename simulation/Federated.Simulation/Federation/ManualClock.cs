namespace Federated.Simulation.Federation;

/// <summary>Simulated time: a clock that stands still until the simulation advances it, so the coordinator's deadlines,
/// liveness and timestamps follow the simulation, never the wall clock.</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    /// <summary>Moves simulated time forward by <paramref name="by"/> (≥ 0).</summary>
    public void Advance(TimeSpan by)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        _now += by;
    }
}
