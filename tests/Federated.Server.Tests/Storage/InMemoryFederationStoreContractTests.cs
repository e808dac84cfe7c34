using Federated.Server.Storage;

namespace Federated.Server.Tests.Storage;

public sealed class InMemoryFederationStoreContractTests : FederationStoreContract
{
    protected override IFederationStore OpenStore() => FederationStores.Open(FederationStores.Memory);
}
