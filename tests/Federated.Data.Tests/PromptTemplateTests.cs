namespace Federated.Data.Tests;

public sealed class PromptTemplateTests
{
    [Fact]
    public void Format_WithContext_HasInputBlock()
    {
        var example = new InstructionExample("Summarize.", "Some text.", "Short.", "summarization");
        var prompt = PromptTemplate.Format(example);
        Assert.Equal(
            "Below is an instruction that describes a task, paired with an input that provides further context. " +
            "Write a response that appropriately completes the request.\n\n### Instruction:\nSummarize.\n\n### Input:\nSome text.\n\n### Response:\n",
            prompt);
    }

    [Theory]
    [InlineData("")]
    [InlineData("  \n")]
    public void Format_EmptyContext_DropsInputBlock(string context)
    {
        var prompt = PromptTemplate.Format(new InstructionExample("Define: dog (noun)", context, "x", "noun.animal"));
        Assert.Equal(
            "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n" +
            "### Instruction:\nDefine: dog (noun)\n\n### Response:\n", prompt);
    }

    [Fact]
    public void Format_RawPrompt_IsVerbatim()
    {
        var example = InstructionExample.FromPrompt("Q: 2+2?\nA:", " 4");
        Assert.Equal("Q: 2+2?\nA:", PromptTemplate.Format(example));
        Assert.Equal("Q: 2+2?\nA: 4", PromptTemplate.FormatWithResponse(example));
        Assert.Equal(InstructionExample.DefaultCategory, example.Category);
    }
}
