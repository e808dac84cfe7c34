using Federated.Server.Coordination;
using Federated.Server.Domain;

namespace Federated.Simulation.Federation;

/// <summary>
/// How a client reaches the federation: the four calls of the wire protocol (docs/protocol.md) as domain records,
/// authenticated by the bearer credential Enroll returned. The networked federation is the same
/// <see cref="FederationCoordinator"/> behind gRPC (Server.Host's FederationService + AuthInterceptor, EdgeClient's
/// FederationChannel); <see cref="InProcessTransport"/> calls it directly. A distributed simulation plugs in here.
/// </summary>
internal interface IFederationTransport
{
    EnrollmentResult Enroll(string enrollmentToken, ClientDescription client);
    TaskAssignment GetTask(string bearerToken);
    ModelDelta GetModel(string bearerToken, long sinceVersion);
    UpdateReceiptInfo PushUpdate(string bearerToken, UpdateSubmission update);
}

/// <summary>The coordinator in the same process: each call authenticates its credential as the Host's AuthInterceptor
/// does (and, like it, refuses an update pushed under another client's id), then calls the coordinator.</summary>
internal sealed class InProcessTransport(FederationCoordinator coordinator) : IFederationTransport
{
    public EnrollmentResult Enroll(string enrollmentToken, ClientDescription client) => coordinator.Enroll(enrollmentToken, client);

    public TaskAssignment GetTask(string bearerToken) => coordinator.GetTask(coordinator.Authenticate(bearerToken));

    public ModelDelta GetModel(string bearerToken, long sinceVersion) => coordinator.GetModel(coordinator.Authenticate(bearerToken), sinceVersion);

    public UpdateReceiptInfo PushUpdate(string bearerToken, UpdateSubmission update)
    {
        string caller = coordinator.Authenticate(bearerToken);
        if (!string.Equals(caller, update.ClientId, StringComparison.Ordinal))
            throw new FederationException(FederationError.PermissionDenied, $"client_id {update.ClientId} is not the caller's ({caller}).");
        return coordinator.PushUpdate(update);
    }
}
