using Marten;
using UsageSlices.Domain;
using UsageSlices.Domain.Webhooks;
using UsageSlices.Infrastructure;

namespace UsageSlices.Features.GettingWebhooks;

public sealed record GetWebhook(Guid Id);

public static class GetWebhookHandler
{
    public static async Task<Outcome<WebhookEndpointView>> Handle(GetWebhook query, IQuerySession session, CancellationToken cancellation) =>
        await session.LoadAsync<WebhookEndpoint>(query.Id, cancellation) is { } endpoint
            ? WebhookEndpointView.Of(endpoint)
            : WebhookRefusals.NotFound(query.Id);
}

public static class GetWebhookEndpoint
{
    public static void MapGetWebhook(this IEndpointRouteBuilder api) =>
        api.MapGet("/webhooks/{id:guid}", (Guid id, HttpContext http) => http.Send<GetWebhook, WebhookEndpointView>(new GetWebhook(id)))
            .ActsForNoOrganisation(Scopes.Admin)
            .Produces<WebhookEndpointView>().ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("GetWebhook")
            .WithSummary("One webhook endpoint, without its secret.");
}
