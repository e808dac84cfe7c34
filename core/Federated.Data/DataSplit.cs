namespace Federated.Data;

/// <summary>The four word-disjoint splits of the built-in task.</summary>
public enum DataSplit
{
    /// <summary>Text for pretraining the base model.</summary>
    Pretrain,
    /// <summary>Federated training data (partitioned over clients).</summary>
    Train,
    /// <summary>Validation data (model selection).</summary>
    Validation,
    /// <summary>Test data (final scores).</summary>
    Test,
}
