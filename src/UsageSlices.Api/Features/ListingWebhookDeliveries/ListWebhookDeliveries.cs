using Marten;
using UsageSlices.Domain;
using UsageSlices.Domain.Webhooks;
using UsageSlices.Infrastructure;

namespace UsageSlices.Features.ListingWebhookDeliveries;

/// <summary>An endpoint's deliveries, newest first (the last <see cref="Limit"/>).</summary>
public sealed record ListWebhookDeliveries(Guid WebhookId)
{
    public const int Limit = 100;
}

public sealed record WebhookDeliveryView(
    Guid Id, string EventType, Guid WebhookId, string WebhookMessageId, WebhookDeliveryStatus Status, IReadOnlyList<WebhookAttempt> Attempts,
    DateTimeOffset? NextAttemptAt, DateTimeOffset CreatedAt);

public sealed record ListWebhookDeliveriesReply(IReadOnlyList<WebhookDeliveryView> Deliveries);

public static class ListWebhookDeliveriesHandler
{
    public static async Task<Outcome<ListWebhookDeliveriesReply>> Handle(ListWebhookDeliveries query, IQuerySession session, CancellationToken cancellation)
    {
        if (await session.LoadAsync<WebhookEndpoint>(query.WebhookId, cancellation) is null)
            return WebhookRefusals.NotFound(query.WebhookId);
        var deliveries = await session.Query<WebhookDelivery>().Where(d => d.WebhookId == query.WebhookId)
            .OrderByDescending(d => d.CreatedAt).Take(ListWebhookDeliveries.Limit).ToListAsync(cancellation);
        return new ListWebhookDeliveriesReply([.. deliveries.Select(d => new WebhookDeliveryView(
            d.Id, d.EventType, d.WebhookId, d.MessageId, d.Status, d.Attempts, d.NextAttemptAt, d.CreatedAt))]);
    }
}

public static class ListWebhookDeliveriesEndpoint
{
    public static void MapListWebhookDeliveries(this IEndpointRouteBuilder api) =>
        api.MapGet("/webhooks/{id:guid}/deliveries", (Guid id, HttpContext http) =>
                http.Send<ListWebhookDeliveries, ListWebhookDeliveriesReply>(new ListWebhookDeliveries(id)))
            .ActsForNoOrganisation(Scopes.Admin)
            .Produces<ListWebhookDeliveriesReply>().ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("ListWebhookDeliveries")
            .WithSummary("An endpoint's last 100 deliveries, newest first, each with its attempts (status code, duration, error).");
}
