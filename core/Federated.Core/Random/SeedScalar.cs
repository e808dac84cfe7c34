namespace Federated.Core.Random;

/// <summary>
/// One zeroth-order step as it travels: the index of the seed in the round's <c>SeedPool</c> and the projected
/// gradient g = (L(w + εz) − L(w − εz)) / 2ε measured along z(seed). The model moved by −η·g·z(seed).
/// </summary>
public readonly record struct SeedScalar(int SeedIndex, float Value);
