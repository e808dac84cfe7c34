using Federated.Data.Pretraining;

namespace Federated.Data.Tests.Pretraining;

public sealed class LearningRateScheduleTests
{
    // Peak 1e-3, 10 warm-up steps, 110 total, floor 0.1 · peak = 1e-4. Expected values worked by hand:
    //   warm-up: peak · (s+1)/10;  cosine: 1e-4 + ½ · 9e-4 · (1 + cos(π (s−10)/100)).
    [Theory]
    [InlineData(0, 1e-4)]            // first warm-up step: 1/10 of the peak
    [InlineData(4, 5e-4)]
    [InlineData(9, 1e-3)]            // last warm-up step reaches the peak
    [InlineData(10, 1e-3)]           // cosine starts at the peak (progress 0)
    [InlineData(35, 8.6819805e-4)]   // progress ¼: 1e-4 + 4.5e-4 · (1 + 0.70710678)
    [InlineData(60, 5.5e-4)]         // progress ½: halfway between peak and floor
    [InlineData(85, 2.3180195e-4)]   // progress ¾: 1e-4 + 4.5e-4 · (1 − 0.70710678)
    [InlineData(110, 1e-4)]          // end of the schedule: the floor
    [InlineData(500, 1e-4)]          // past the end stays at the floor
    public void WarmupCosine_HandWorkedSteps_MatchExpected(int step, double expected)
    {
        // Act
        double lr = LearningRateSchedule.WarmupCosine(step, peak: 1e-3, warmupSteps: 10, totalSteps: 110, minRatio: 0.1);

        // Assert
        Assert.Equal(expected, lr, 1e-11);
    }

    [Fact]
    public void WarmupCosine_NoWarmup_StartsAtPeak()
    {
        // Arrange / Act
        double lr = LearningRateSchedule.WarmupCosine(0, peak: 2e-3, warmupSteps: 0, totalSteps: 10, minRatio: 0);

        // Assert
        Assert.Equal(2e-3, lr, 1e-15);
    }

    [Fact]
    public void WarmupCosine_NegativeStep_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => LearningRateSchedule.WarmupCosine(-1, 1e-3, 10, 100, 0.1));
    }
}
