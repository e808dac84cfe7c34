using Federated.Data;

namespace Federated.TestKit;

/// <summary>Short WordNet-style records for tests on the tiny fixture models (fast on one core).</summary>
public static class TinyRecords
{
    /// <summary>Sixteen short definitions (animals, plants, motion verbs, colours).</summary>
    public static readonly InstructionExample[] Definitions =
    [
        new("Define: dog (noun)", "", "a member of the genus Canis", "noun.animal", "definition", "dog"),
        new("Define: cat (noun)", "", "feline mammal usually having thick soft fur", "noun.animal", "definition", "cat"),
        new("Define: run (verb)", "", "move fast by using one's feet", "verb.motion", "definition", "run"),
        new("Define: walk (verb)", "", "use one's feet to advance", "verb.motion", "definition", "walk"),
        new("Define: red (adj)", "", "having the color of blood", "adj.all", "definition", "red"),
        new("Define: tree (noun)", "", "a tall perennial woody plant", "noun.plant", "definition", "tree"),
        new("Define: rose (noun)", "", "any of many shrubs of the genus Rosa", "noun.plant", "definition", "rose"),
        new("Define: swim (verb)", "", "travel through water", "verb.motion", "definition", "swim"),
        new("Define: horse (noun)", "", "solid-hoofed herbivorous quadruped", "noun.animal", "definition", "horse"),
        new("Define: jump (verb)", "", "move forward by leaps and bounds", "verb.motion", "definition", "jump"),
        new("Define: oak (noun)", "", "a deciduous tree bearing acorns", "noun.plant", "definition", "oak"),
        new("Define: blue (adj)", "", "of the color of the clear sky", "adj.all", "definition", "blue"),
        new("Define: fish (noun)", "", "any of various cold-blooded aquatic vertebrates", "noun.animal", "definition", "fish"),
        new("Define: sing (verb)", "", "produce tones with the voice", "verb.communication", "definition", "sing"),
        new("Define: moss (noun)", "", "tiny leafy-stemmed flowerless plants", "noun.plant", "definition", "moss"),
        new("Define: green (adj)", "", "of the color between yellow and blue", "adj.all", "definition", "green"),
    ];

}
