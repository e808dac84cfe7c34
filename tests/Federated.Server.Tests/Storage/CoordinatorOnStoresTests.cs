using Federated.Server.Domain;
using Federated.Server.Storage;

namespace Federated.Server.Tests.Storage;

/// <summary>The coordinator does not care which store it runs on: the same federation on SQLite and in memory.</summary>
public sealed class CoordinatorOnStoresTests
{
    private static (ModelDelta Full, ModelDelta Since1, FederationStatusInfo Status) Run(Func<string, IFederationStore>? openStore)
    {
        using var f = new TestFederation(openStore: openStore);
        var a = f.Enroll("a");
        var b = f.Enroll("b");
        for (long round = 1; round <= 3; round++)
        {
            var task = f.Coordinator.GetTask(a);
            f.Coordinator.GetTask(b);
            f.Push(a, round, TestFederation.Scalars([(uint)round, 7], [1f, -2f]), samples: 3, version: task.ModelVersion);
            f.Push(b, round, TestFederation.Scalars([7], [4f]), samples: 1, version: task.ModelVersion);
        }
        return (f.Coordinator.GetModel(a, 0), f.Coordinator.GetModel(a, 1), f.Coordinator.GetStatus());
    }

    [Fact]
    public void Federation_InMemoryStore_SameModelAndStatusAsSqlite()
    {
        // Act
        var sqlite = Run(null);
        var memory = Run(_ => new InMemoryFederationStore());

        // Assert
        Assert.Equal(sqlite.Full.SeedIndices, memory.Full.SeedIndices);
        Assert.Equal(sqlite.Full.ScalarDeltas, memory.Full.ScalarDeltas);
        Assert.Equal(sqlite.Since1.SeedIndices, memory.Since1.SeedIndices);
        Assert.Equal(sqlite.Since1.ScalarDeltas, memory.Since1.ScalarDeltas);
        Assert.Equal(sqlite.Status with { FederationId = "" }, memory.Status with { FederationId = "" });
        Assert.True(memory.Status.Finished);
    }
}
