using Marten;
using UsageSlices.Domain;
using UsageSlices.Domain.Webhooks;
using UsageSlices.Infrastructure;
using Wolverine;

namespace UsageSlices.Features.TestingWebhooks;

/// <summary>Send a <c>webhook.test</c> event to one endpoint (whatever its filters), to check the receiver and its signature check.</summary>
public sealed record TestWebhook(Guid Id);

public sealed record TestWebhookReply(Guid DeliveryId, Guid WebhookId, string WebhookMessageId);

public static class TestWebhookHandler
{
    public static async Task<(Outcome<TestWebhookReply>, OutgoingMessages)> Handle(
        TestWebhook command, IDocumentSession session, TimeProvider time, CancellationToken cancellation)
    {
        if (await session.LoadAsync<WebhookEndpoint>(command.Id, cancellation) is not { } endpoint)
            return (WebhookRefusals.NotFound(command.Id), []);
        var now = time.GetUtcNow();
        var raised = WebhookEventRaised.Of(Guid.CreateVersion7(now), WebhookEventTypes.Test, endpoint.OrgId, now, new { webhookId = endpoint.Id });
        var delivery = WebhookDelivery.For(raised, endpoint, now);
        session.Insert(delivery);
        return (new TestWebhookReply(delivery.Id, endpoint.Id, delivery.MessageId), [new DeliverWebhook(delivery.Id)]);
    }
}

public static class TestWebhookEndpoint
{
    public static void MapTestWebhook(this IEndpointRouteBuilder api) =>
        api.MapPost("/webhooks/{id:guid}/test", (Guid id, HttpContext http) =>
                http.Send<TestWebhook, TestWebhookReply>(new TestWebhook(id), queued => TypedResults.Accepted($"/api/v1/webhooks/{id}/deliveries", queued)))
            .ActsForNoOrganisation(Scopes.Admin)
            .Produces<TestWebhookReply>(StatusCodes.Status202Accepted).ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("TestWebhook")
            .WithSummary("Queue a webhook.test event for one endpoint; 202, and the delivery shows in its deliveries.");
}
