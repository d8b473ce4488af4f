using Marten;
using UsageSlices.Domain;
using UsageSlices.Domain.Webhooks;
using UsageSlices.Infrastructure;
using Wolverine;

namespace UsageSlices.Features.RetryingWebhookDeliveries;

/// <summary>
/// Try a delivery again now, with the same <c>webhook-id</c>: one more attempt. A failed delivery whose schedule was
/// spent is failed again if that attempt fails too; a delivered one is sent again (receivers drop it by its id).
/// </summary>
public sealed record RetryWebhookDelivery(Guid WebhookId, Guid DeliveryId);

public sealed record RetryWebhookDeliveryReply(Guid DeliveryId, Guid WebhookId, string WebhookMessageId);

public static class RetryWebhookDeliveryHandler
{
    public static async Task<(Outcome<RetryWebhookDeliveryReply>, OutgoingMessages)> Handle(
        RetryWebhookDelivery command, IDocumentSession session, TimeProvider time, CancellationToken cancellation)
    {
        if (await session.LoadAsync<WebhookDelivery>(command.DeliveryId, cancellation) is not { } delivery || delivery.WebhookId != command.WebhookId)
            return (Refusal.NotFound($"Webhook endpoint {command.WebhookId} has no delivery {command.DeliveryId}."), []);
        delivery.Status = WebhookDeliveryStatus.Pending;
        delivery.NextAttemptAt = time.GetUtcNow();
        session.Store(delivery);
        return (new RetryWebhookDeliveryReply(delivery.Id, delivery.WebhookId, delivery.MessageId), [new DeliverWebhook(delivery.Id)]);
    }
}

public static class RetryWebhookDeliveryEndpoint
{
    public static void MapRetryWebhookDelivery(this IEndpointRouteBuilder api) =>
        api.MapPost("/webhooks/{id:guid}/deliveries/{deliveryId:guid}/retry", (Guid id, Guid deliveryId, HttpContext http) =>
                http.Send<RetryWebhookDelivery, RetryWebhookDeliveryReply>(
                    new RetryWebhookDelivery(id, deliveryId), queued => TypedResults.Accepted($"/api/v1/webhooks/{id}/deliveries", queued)))
            .ActsForNoOrganisation(Scopes.Admin)
            .Produces<RetryWebhookDeliveryReply>(StatusCodes.Status202Accepted).ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("RetryWebhookDelivery")
            .WithSummary("Send a delivery again now (202), with the same webhook-id.");
}
