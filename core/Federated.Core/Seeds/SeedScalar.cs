namespace Federated.Core.Seeds;

/// <summary>
/// A seed index and a scalar. On the uplink, one zeroth-order step: the index of the seed in the round's <c>SeedPool</c> and the projected
/// gradient g = (L(w + εz) − L(w − εz)) / 2ε measured along z(seed); the model moved by −η·g·z(seed).
/// On the downlink, a change ΔH of the seed's accumulated scalar, replayed as w ← w − η·ΔH·z(seed).
/// </summary>
public readonly record struct SeedScalar(int SeedIndex, float Value);
