using FsCheck.Xunit;
using Federated.Data.Partitioning;

namespace Federated.Data.Tests;

public sealed class PartitionPropertyTests
{
    private static readonly string[] Schemes = ["iid", "dirichlet:0.3,min=1", "dirichlet:5", "categories:1", "categories:2", "quantity:1.5"];

    [Property(MaxTest = 100)]
    public bool Apply_RandomData_ClientsAreDisjointAndCoverEligibleRecordsOrClearError(byte[] categoryCodes, byte clientByte, int seed, byte schemeByte)
    {
        // Arrange: up to 8 categories from the random bytes; 1..min(12, n) clients; holdout of c0 half the time
        if (categoryCodes.Length == 0) return true;
        var categories = categoryCodes.Select(b => "c" + (b % 8)).ToArray();
        int clients = 1 + clientByte % Math.Min(12, categories.Length);
        var scheme = Schemes[schemeByte % Schemes.Length];
        bool holdout = schemeByte % 2 == 1 && categories.Contains("c0") && categories.Count(c => c != "c0") >= clients;
        if (holdout) scheme += "+holdout:c0";

        // Act: label-Dirichlet may be unable to give every client its minimum on tiny, few-category data; then it must
        // say so with an ArgumentException rather than return a short partition.
        PartitionResult result;
        try { result = PartitionScheme.Parse(scheme).Apply(categories, clients, seed); }
        catch (ArgumentException ex) when (scheme.StartsWith("dirichlet") && ex.Message.Contains("could not give")) { return true; }

        // Assert
        var all = result.Clients.SelectMany(c => c).Concat(result.HeldOut).Concat(result.Unassigned).ToArray();
        return result.Clients.Count == clients
               && all.Length == categories.Length
               && all.Distinct().Count() == categories.Length
               && result.Clients.All(c => c.SequenceEqual(c.Order()))
               && (scheme.StartsWith("categories") || result.Clients.All(c => c.Length > 0)) // k-category clients may be empty on tiny data
               && (!holdout || result.Clients.SelectMany(c => c).All(i => categories[i] != "c0"))
               && result.HeldOut.All(i => categories[i] == "c0")
               && (scheme.StartsWith("categories") || result.Unassigned.Length == 0);
    }

    [Property(MaxTest = 100)]
    public bool Parse_ArbitraryText_ParsesOrThrowsArgumentException(string? text)
    {
        try
        {
            var scheme = PartitionScheme.Parse(text ?? "");
            return PartitionScheme.Parse(scheme.ToString()).ToString() == scheme.ToString();
        }
        catch (ArgumentException ex)
        {
            return ex.Message.Length > 0;
        }
    }
}
