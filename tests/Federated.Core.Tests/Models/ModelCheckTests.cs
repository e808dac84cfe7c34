using Federated.Core.Models;
using Federated.TestKit;

namespace Federated.Core.Tests.Models;

public sealed class ModelCheckTests
{
    [Fact]
    public void EnsureFinite_FixtureModel_Passes()
    {
        // Arrange
        var model = CausalLm.Load(Fixtures.Path("tiny-llama"));

        // Act + Assert (no exception)
        ModelCheck.EnsureFinite(model, "tiny-llama");
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void EnsureFinite_NonFiniteWeightInOneTensor_ThrowsNamingSourceTensorAndElement(float bad)
    {
        // Arrange: the first tensors stay finite; the third holds the bad value at element 5.
        var model = CausalLm.Load(Fixtures.Path("tiny-llama"));
        var tensor = model.Parameters[2];
        tensor.Data[5] = bad;

        // Act
        var ex = Assert.Throws<InvalidDataException>(() => ModelCheck.EnsureFinite(model, "models/broken"));

        // Assert
        Assert.Contains("models/broken", ex.Message, StringComparison.Ordinal);
        Assert.Contains(tensor.Name, ex.Message, StringComparison.Ordinal);
        Assert.Contains("element 5", ex.Message, StringComparison.Ordinal);
    }
}
