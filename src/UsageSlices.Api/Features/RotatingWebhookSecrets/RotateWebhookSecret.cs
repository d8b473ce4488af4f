using Marten;
using UsageSlices.Domain;
using UsageSlices.Domain.Webhooks;
using UsageSlices.Infrastructure;
using Wolverine.Marten;

namespace UsageSlices.Features.RotatingWebhookSecrets;

/// <summary>Give an endpoint a new signing secret; deliveries from now on are signed with it, and the old one is gone.</summary>
public sealed record RotateWebhookSecret(Guid Id);

public static class RotateWebhookSecretHandler
{
    public static async Task<(Outcome<WebhookEndpointWithSecret>, IMartenOp)> Handle(
        RotateWebhookSecret command, IQuerySession session, CancellationToken cancellation)
    {
        if (await session.LoadAsync<WebhookEndpoint>(command.Id, cancellation) is not { } endpoint)
            return (WebhookRefusals.NotFound(command.Id), MartenOps.Nothing());
        endpoint.Secret = WebhookEndpoint.NewSecret();
        return (WebhookEndpointWithSecret.Of(endpoint), MartenOps.Store(endpoint));
    }
}

public static class RotateWebhookSecretEndpoint
{
    public static void MapRotateWebhookSecret(this IEndpointRouteBuilder api) =>
        api.MapPost("/webhooks/{id:guid}/rotate-secret", (Guid id, HttpContext http) =>
                http.Send<RotateWebhookSecret, WebhookEndpointWithSecret>(new RotateWebhookSecret(id)))
            .ActsForNoOrganisation(Scopes.Admin)
            .Produces<WebhookEndpointWithSecret>().ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("RotateWebhookSecret")
            .WithSummary("Replace an endpoint's signing secret; the answer holds the new one, shown only here.");
}
