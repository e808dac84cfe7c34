using Federated.Core.IO;
using Federated.Core.Lora;
using Federated.Core.Models;
using Federated.TestKit;

namespace Federated.Core.Tests.Models;

public sealed class AllocationTests
{
    [Theory]
    [InlineData("tiny-llama", false)]
    [InlineData("tiny-gpt2", false)]
    [InlineData("tiny-llama", true)]
    public void ForwardBackward_AfterWarmUp_AllocatesNothing(string model, bool withAdapter)
    {
        // Arrange
        using var lm = CausalLm.Load(Fixtures.Path(model));
        if (withAdapter)
        {
            lm.AttachAdapter(LoraAdapter.Load(lm, Fixtures.Path(model, "lora-adapter")));
            lm.TrainBaseWeights = false;
        }
        using var reference = SafeTensorsFile.Open(Fixtures.Path(model, "reference.safetensors"));
        var ids = reference.ReadInt32("batch.input_ids");
        for (int i = 0; i < 3; i++)
        {
            lm.ForwardLoss(ids, 2, 24);
            lm.Backward();
        }

        // Act
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 3; i++)
        {
            lm.ForwardLoss(ids, 2, 24);
            lm.ZeroGrad();
            lm.Backward();
            lm.Forward(ids.AsSpan(0, 24), 1, 24);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // Assert
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void ForwardLoss_InferenceLayoutAfterWarmUp_AllocatesNothing()
    {
        // Arrange
        using var lm = CausalLm.Load(Fixtures.Path("tiny-llama"));
        lm.KeepActivationsForBackward = false;
        using var reference = SafeTensorsFile.Open(Fixtures.Path("tiny-llama", "reference.safetensors"));
        var ids = reference.ReadInt32("batch.input_ids");
        lm.ForwardLoss(ids, 2, 24);

        // Act
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 3; i++) lm.ForwardLoss(ids, 2, 24);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // Assert
        Assert.Equal(0, allocated);
    }
}
