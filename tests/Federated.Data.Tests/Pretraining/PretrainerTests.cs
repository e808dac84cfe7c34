using Federated.Core.Models;
using Federated.Core.Tokenization;
using Federated.Data.Pretraining;
using Federated.Data.Training;
using Federated.Data.WordNet;

namespace Federated.Data.Tests.Pretraining;

/// <summary>A small tokenizer (400 ids) trained on the first 300 pretraining records, shared by the tests of a class.</summary>
public sealed class TinyPretrainFixture : IDisposable
{
    public TinyPretrainFixture()
    {
        Directory = Path.Combine(Path.GetTempPath(), "federated-pretrain-tests-" + Guid.NewGuid().ToString("N"));
        Examples = BuiltinDataset.Load(DataSplit.Pretrain).Records.Take(300).ToArray();
        Tokenizer = PretrainCorpus.WriteTokenizer(Path.Combine(Directory, "tokenizer"), PretrainCorpus.TrainTokenizer(Examples, 400), 256);
    }

    public string Directory { get; }
    public InstructionExample[] Examples { get; }
    public HfTokenizer Tokenizer { get; }

    public PretrainOptions Options { get; } = new()
    {
        Config = "tiny", SeqLen = 32, BatchSize = 4, LearningRate = 1e-2, WarmupSteps = 2, Steps = 20, Seed = 5,
    };

    public ModelConfig Config => PretrainModels.Resolve("tiny", Tokenizer.VocabSize, Tokenizer.EosId!.Value, Tokenizer.PadId!.Value, Options.SeqLen);

    public Pretrainer NewTrainer(bool initialize = true)
    {
        var model = new CausalLm(Config);
        if (initialize) Pretrainer.Initialize(model, Options.Seed);
        var corpus = PretrainCorpus.Create(Examples, Tokenizer, Options.SeqLen, Options.Seed);
        return new Pretrainer(model, corpus, Options, Options.Steps);
    }

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}

public sealed class PretrainerTests(TinyPretrainFixture fixture) : IClassFixture<TinyPretrainFixture>
{
    [Fact]
    public void WriteTokenizer_TrainedOnPretrainText_HasSpecialTokensAtTheEnd()
    {
        // Arrange
        var tokenizer = fixture.Tokenizer;

        // Assert: 398 byte/merge ids, then <|endoftext|> (EOS = BOS) and <|pad|>.
        Assert.Equal(400, tokenizer.VocabSize);
        Assert.Equal(398, tokenizer.EosId);
        Assert.Equal(398, tokenizer.BosId);
        Assert.Equal(399, tokenizer.PadId);
        string text = PromptTemplate.FormatWithResponse(fixture.Examples[0]);
        Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text)));
    }

    [Fact]
    public void TrainStep_TinyConfig_LowersLossOnAFixedBatch()
    {
        // Arrange
        var trainer = fixture.NewTrainer();
        float before = trainer.EvaluateBatch(0);

        // Act
        for (int i = 0; i < 15; i++) trainer.TrainStep();
        float after = trainer.EvaluateBatch(0);

        // Assert: from ≈ ln 400 ≈ 6.0 at init to well below it.
        Assert.InRange(before, 5.5f, 6.5f);
        Assert.True(after < before - 1.0f, $"loss {before} → {after}");
    }

    [Fact]
    public void LoadCheckpoint_ResumedRun_RepeatsTheUninterruptedRunBitForBit()
    {
        // Arrange: run A trains 4 steps, checkpointing after 3.
        string path = Path.Combine(fixture.Directory, $"resume-{Guid.NewGuid():N}", "state.safetensors");
        var a = fixture.NewTrainer();
        a.CommandLines.Add("federated pretrain --out x --steps 20");
        for (int i = 0; i < 3; i++) a.TrainStep();
        a.SaveCheckpoint(path);
        float nextA = a.TrainStep();
        float[] weightsA = a.Model.Weights.ToArray();

        // Act: run B starts from zero weights, loads the checkpoint, trains one step.
        var b = fixture.NewTrainer(initialize: false);
        b.LoadCheckpoint(path);
        int stepAfterLoad = b.Step;
        float nextB = b.TrainStep();

        // Assert
        Assert.Equal(3, stepAfterLoad);
        Assert.Equal(nextA, nextB);
        Assert.True(weightsA.AsSpan().SequenceEqual(b.Model.Weights), "weights after the resumed step differ");
        Assert.Equal(a.Losses, b.Losses);
        Assert.Equal(["federated pretrain --out x --steps 20"], b.CommandLines);
        Assert.False(File.Exists(path + ".tmp"));
    }

    [Fact]
    public void ReadCheckpointHeader_SavedCheckpoint_ReturnsOptionsConfigAndTotal()
    {
        // Arrange
        string path = Path.Combine(fixture.Directory, $"header-{Guid.NewGuid():N}", "state.safetensors");
        var trainer = fixture.NewTrainer();
        trainer.TrainStep();
        trainer.SaveCheckpoint(path);

        // Act
        var (options, config, total) = Pretrainer.ReadCheckpointHeader(path);

        // Assert
        Assert.Equal(fixture.Options, options);
        Assert.Equal(fixture.Config.Dim, config.Dim);
        Assert.Equal(fixture.Config.VocabSize, config.VocabSize);
        Assert.Equal(fixture.Options.Steps, total);
    }

    [Fact]
    public void SaveModel_TinyModel_ReloadsWithCausalLmAndHfTokenizer()
    {
        // Arrange
        string dir = Path.Combine(fixture.Directory, $"export-{Guid.NewGuid():N}");
        var trainer = fixture.NewTrainer();
        trainer.TrainStep();
        var original = trainer.Model;
        PretrainCorpus.WriteTokenizer(dir, File.ReadAllText(Path.Combine(fixture.Directory, "tokenizer", "tokenizer.json")), 256);
        int[] ids = fixture.Tokenizer.Encode(PromptTemplate.FormatWithResponse(fixture.Examples[1]));

        // Act
        Pretrainer.SaveModel(original, dir);
        using var reloaded = CausalLm.Load(dir);
        var tokenizer = HfTokenizer.Load(dir);
        original.Forward(ids, 1, ids.Length);
        float[] expected = original.Logits.ToArray();
        reloaded.Forward(ids, 1, ids.Length);

        // Assert
        Assert.Equal(ModelArchitecture.Llama, reloaded.Config.Architecture);
        Assert.True(reloaded.Config.TieWordEmbeddings);
        Assert.Equal(fixture.Tokenizer.EosId, reloaded.Config.EosTokenIds.Single());
        Assert.True(expected.AsSpan().SequenceEqual(reloaded.Logits), "reloaded logits differ");
        Assert.Equal(ids, tokenizer.Encode(PromptTemplate.FormatWithResponse(fixture.Examples[1])));
        Assert.Equal(fixture.Tokenizer.EosId, tokenizer.EosId);
    }

    [Fact]
    public void UnigramBaseline_ZeroCounts_IsLogVocabulary()
    {
        // Arrange: with no counts add-one smoothing gives the uniform distribution, so every token costs ln V.
        var encoder = new ExampleEncoder(fixture.Tokenizer, 256);
        var counts = new long[fixture.Tokenizer.VocabSize];

        // Act
        double loss = UnigramBaseline.Loss(counts, encoder, fixture.Examples.Take(5));

        // Assert
        Assert.Equal(Math.Log(400), loss, 1e-12);
    }

    [Fact]
    public void UnigramBaseline_OneFrequentToken_HandWorkedValue()
    {
        // Arrange: one example whose response is a single token x followed by EOS; counts: x seen 6 times, nothing else.
        // p(x) = 7 / (6 + 400), p(EOS) = 1 / 406 → loss = ½ (ln(406/7) + ln 406).
        var example = new InstructionExample("Define: a (noun)", "", "a", "noun.Tops");
        var encoder = new ExampleEncoder(fixture.Tokenizer, 256);
        int x = fixture.Tokenizer.Encode("a").Single();
        var counts = new long[400];
        counts[x] = 6;

        // Act
        double loss = UnigramBaseline.Loss(counts, encoder, [example]);

        // Assert
        Assert.Equal(0.5 * (Math.Log(406.0 / 7) + Math.Log(406)), loss, 1e-12);
    }
}
