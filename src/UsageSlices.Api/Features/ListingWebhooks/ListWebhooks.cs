using Marten;
using UsageSlices.Domain;
using UsageSlices.Domain.Webhooks;
using UsageSlices.Infrastructure;

namespace UsageSlices.Features.ListingWebhooks;

public sealed record ListWebhooks;

public sealed record ListWebhooksReply(IReadOnlyList<WebhookEndpointView> Webhooks);

public static class ListWebhooksHandler
{
    public static async Task<Outcome<ListWebhooksReply>> Handle(ListWebhooks query, IQuerySession session, CancellationToken cancellation) =>
        new ListWebhooksReply([.. (await session.Query<WebhookEndpoint>().OrderBy(e => e.CreatedAt).ToListAsync(cancellation)).Select(WebhookEndpointView.Of)]);
}

public static class ListWebhooksEndpoint
{
    public static void MapListWebhooks(this IEndpointRouteBuilder api) =>
        api.MapGet("/webhooks", (Delegate)((HttpContext http) => http.Send<ListWebhooks, ListWebhooksReply>(new ListWebhooks())))
            .ActsForNoOrganisation(Scopes.Admin)
            .Produces<ListWebhooksReply>()
            .WithName("ListWebhooks")
            .WithSummary("Every webhook endpoint, oldest first, without their secrets.");
}
