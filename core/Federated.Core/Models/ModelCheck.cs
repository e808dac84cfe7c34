namespace Federated.Core.Models;

/// <summary>
/// Checks a loaded model before it is used: every weight must be finite. A checkpoint with NaN or ±∞ weights is bad
/// input (a diverged training run, a corrupt download); without this check `score` would print `loss NaN` and exit 0.
/// Used when the inference verbs (`score`, `eval`, `generate`) load a model; servers can call it at start.
/// </summary>
public static class ModelCheck
{
    /// <summary>Throws <see cref="InvalidDataException"/> naming <paramref name="source"/>, the first tensor (HF or PEFT
    /// name, base weights then adapter) holding a non-finite value, the element index and the value.</summary>
    public static void EnsureFinite(CausalLm model, string source)
    {
        ArgumentNullException.ThrowIfNull(model);
        EnsureFinite(model.Parameters, source);
        if (model.Adapter is { } adapter) EnsureFinite(adapter.Parameters, source);
    }

    /// <inheritdoc cref="EnsureFinite(CausalLm, string)"/>
    public static void EnsureFinite(IEnumerable<ParameterTensor> tensors, string source)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        foreach (var tensor in tensors)
        {
            var data = tensor.Data;
            for (int i = 0; i < data.Length; i++)
                if (!float.IsFinite(data[i]))
                    throw new InvalidDataException(
                        $"{source}: tensor {tensor.Name} has a non-finite weight ({data[i]}) at element {i}; the model is unusable.");
        }
    }
}
