using System.Text.RegularExpressions;
using Federated.Core.Models;
using Federated.Core.Seeds;

namespace Federated.Core.ZerothOrder;

/// <summary>
/// The tensors a zeroth-order step perturbs and updates, as indices into the model's Hugging Face parameter list.
/// z is keyed by the index in the FULL list (seed protocol §tensor order), so filtering tensors never shifts the
/// noise of the others: a client training only attention sees the same z on q_proj as one training everything.
/// </summary>
public sealed class TrainableSet
{
    private readonly int[] _indices;
    private readonly SeedTensor[] _tensors;

    private TrainableSet(int[] indices, SeedTensor[] tensors, string description, long elementCount)
    {
        _indices = indices;
        _tensors = tensors;
        Description = description;
        ElementCount = elementCount;
    }

    /// <summary>Indices into <see cref="ICausalLm.Parameters"/>, ascending.</summary>
    public ReadOnlySpan<int> Indices => _indices;

    /// <summary>The same tensors as (tensor index, arena offset, length), what <see cref="ICausalLm.Perturb"/> takes.</summary>
    public ReadOnlySpan<SeedTensor> Tensors => _tensors;

    /// <summary>The filter this set was made from ("all" or the pattern).</summary>
    public string Description { get; }

    /// <summary>Number of trainable elements.</summary>
    public long ElementCount { get; }

    /// <summary>Every parameter tensor.</summary>
    public static TrainableSet All(IReadOnlyList<ParameterTensor> parameters) => Create(parameters, null);

    /// <summary>
    /// The tensors whose name matches <paramref name="pattern"/> (a .NET regular expression searched in the name,
    /// e.g. <c>self_attn|mlp</c>); null, empty or "all" selects every tensor. No match is an error.
    /// </summary>
    public static TrainableSet Create(IReadOnlyList<ParameterTensor> parameters, string? pattern)
    {
        bool all = string.IsNullOrWhiteSpace(pattern) || pattern == "all";
        Regex? regex;
        try
        {
            regex = all ? null : new Regex(pattern!, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"--trainable '{pattern}' is not a valid regular expression: {ex.Message}", nameof(pattern));
        }
        var indices = new List<int>();
        long count = 0;
        for (int i = 0; i < parameters.Count; i++)
        {
            if (regex is not null && !regex.IsMatch(parameters[i].Name)) continue;
            indices.Add(i);
            count += parameters[i].Length;
        }
        if (indices.Count == 0)
            throw new ArgumentException($"--trainable '{pattern}' matches no parameter tensor (e.g. '{parameters[0].Name}').", nameof(pattern));
        var tensors = indices.Select(i => new SeedTensor(i, parameters[i].Offset, parameters[i].Length)).ToArray();
        return new TrainableSet([.. indices], tensors, all ? "all" : pattern!, count);
    }
}
