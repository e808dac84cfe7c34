using Federated.Core.Generation;

namespace Federated.Core.Tests.Generation;

public sealed class Fnv1aTests
{
    [Theory]
    // Published FNV-1a 64-bit test vectors (http://www.isthe.com/chongo/tech/comp/fnv/, test_fnv.c).
    [InlineData("", 0xcbf29ce484222325UL)]
    [InlineData("a", 0xaf63dc4c8601ec8cUL)]
    [InlineData("foobar", 0x85944171f73967e8UL)]
    public void Hash64_KnownVectors_MatchPublished(string text, ulong expected)
    {
        Assert.Equal(expected, Fnv1a.Hash64(System.Text.Encoding.ASCII.GetBytes(text)));
        Assert.Equal(expected, Fnv1a.Hash64(text));
    }
}
