using Federated.Protocol.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Federated.Server.Host;

/// <summary>
/// Binds <see cref="FederationService"/> (named by its <see cref="BindServiceMethodAttribute"/>, which Grpc.AspNetCore
/// and server reflection look up before the generated one) through the generated <c>Federation.BindService</c>, but with
/// every request marshaller wrapped: bytes that are not a valid protobuf message of the request type become
/// INVALID_ARGUMENT naming the type. Without this, Grpc.AspNetCore deserializes the request before any interceptor or
/// service code runs and reports the parser's exception as UNKNOWN ("Exception was thrown by handler"). Only
/// <see cref="InvalidProtocolBufferException"/> is mapped; anything else still reaches Grpc.AspNetCore's own handling.
/// Framing errors (a gRPC frame cut short, a message above the receive limit) are found by Grpc.AspNetCore before the
/// marshaller runs: INTERNAL "Incomplete message." and RESOURCE_EXHAUSTED (docs/server.md §Malformed input).
/// </summary>
internal static class FederationServiceBinder
{
    /// <summary>The service descriptor server reflection serves (the generated one).</summary>
    public static Google.Protobuf.Reflection.ServiceDescriptor Descriptor => Federation.Descriptor;

    /// <summary>Called by Grpc.AspNetCore with its own binder (and a null service: handlers are found by method name).</summary>
    public static void BindService(ServiceBinderBase serviceBinder, Federation.FederationBase serviceImpl) =>
        Federation.BindService(new StrictRequestBinder(serviceBinder), serviceImpl);

    /// <summary>A request marshaller that maps a protobuf parse failure to INVALID_ARGUMENT.</summary>
    internal static Marshaller<T> Strict<T>(Marshaller<T> inner) => new(inner.ContextualSerializer, context =>
    {
        try
        {
            return inner.ContextualDeserializer(context);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument,
                $"The request body is not a valid {typeof(T).Name} protobuf message: {e.Message}"));
        }
    });

    private static Method<TRequest, TResponse> Strict<TRequest, TResponse>(Method<TRequest, TResponse> method)
        where TRequest : class where TResponse : class =>
        new(method.Type, method.ServiceName, method.Name, Strict(method.RequestMarshaller), method.ResponseMarshaller);

    /// <summary>Forwards each method to the real binder with a strict request marshaller.</summary>
    private sealed class StrictRequestBinder(ServiceBinderBase inner) : ServiceBinderBase
    {
        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler) =>
            inner.AddMethod(Strict(method), handler);

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) =>
            inner.AddMethod(Strict(method), handler);

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler) =>
            inner.AddMethod(Strict(method), handler);

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) =>
            inner.AddMethod(Strict(method), handler);
    }
}
