using Marten;
using UsageSlices.Domain;
using UsageSlices.Domain.Webhooks;
using UsageSlices.Infrastructure;
using Wolverine.Marten;

namespace UsageSlices.Features.DeletingWebhooks;

/// <summary>Remove an endpoint: nothing more is sent to it, deliveries already queued included.</summary>
public sealed record DeleteWebhook(Guid Id);

public sealed record DeleteWebhookReply(Guid Id);

public static class DeleteWebhookHandler
{
    public static async Task<(Outcome<DeleteWebhookReply>, IMartenOp)> Handle(DeleteWebhook command, IQuerySession session, CancellationToken cancellation) =>
        await session.LoadAsync<WebhookEndpoint>(command.Id, cancellation) is { } endpoint
            ? (new DeleteWebhookReply(endpoint.Id), MartenOps.Delete(endpoint))
            : (WebhookRefusals.NotFound(command.Id), MartenOps.Nothing());
}

public static class DeleteWebhookEndpoint
{
    public static void MapDeleteWebhook(this IEndpointRouteBuilder api) =>
        api.MapDelete("/webhooks/{id:guid}", (Guid id, HttpContext http) =>
                http.Send<DeleteWebhook, DeleteWebhookReply>(new DeleteWebhook(id), _ => TypedResults.NoContent()))
            .ActsForNoOrganisation(Scopes.Admin)
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("DeleteWebhook")
            .WithSummary("Remove a webhook endpoint.");
}
