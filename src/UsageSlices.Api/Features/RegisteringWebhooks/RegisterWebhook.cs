using FluentValidation;
using Marten;
using UsageSlices.Domain;
using UsageSlices.Domain.Webhooks;
using UsageSlices.Infrastructure;
using Wolverine.Marten;

namespace UsageSlices.Features.RegisteringWebhooks;

public sealed record RegisterWebhookBody(string? Url, List<string>? EventTypes = null, string? OrgId = null, string? Description = null) : IHasExample
{
    public static object Example => new
    {
        url = "https://billing.example.com/hooks/usage",
        eventTypes = new[] { WebhookEventTypes.ThresholdCrossed, WebhookEventTypes.TierAssigned },
        description = "Upsell when a customer nears its limit",
    };
}

/// <summary>Register a receiver of webhook events; its signing secret is shown in this answer only.</summary>
public sealed record RegisterWebhook(string Url, IReadOnlyList<string> EventTypes, string? OrgId, string? Description)
{
    public sealed class Validator : AbstractValidator<RegisterWebhook>
    {
        public Validator(WebhookSettings settings)
        {
            RuleFor(x => x.Url).MustBeWebhookUrl(settings);
            RuleFor(x => x.EventTypes).MustBeEventTypes();
            RuleFor(x => x.OrgId!).MustBeOrgId().When(x => x.OrgId is not null);
            RuleFor(x => x.Description).MustBeDescription().When(x => x.Description is not null);
        }
    }
}

public static class RegisterWebhookHandler
{
    /// <summary>The URL's addresses are checked here, where the handler may wait on DNS; the shape was checked before.</summary>
    public static async Task<(Outcome<WebhookEndpointWithSecret>, IMartenOp)> Handle(
        RegisterWebhook command, IQuerySession session, Placements placements, WebhookSettings settings, TimeProvider time, CancellationToken cancellation)
    {
        if (command.OrgId is { } orgId && !await placements.IsRegisteredAsync(orgId, cancellation))
            return (Refusal.OrganisationNotFound(orgId), MartenOps.Nothing());
        if (await WebhookAddresses.AddressProblemAsync(command.Url, settings.AllowPrivateNetworks, cancellation) is { } problem)
            return (Refusal.Invalid("url", problem), MartenOps.Nothing());

        var now = time.GetUtcNow();
        var endpoint = new WebhookEndpoint
        {
            Id = Guid.CreateVersion7(now),
            Url = command.Url,
            EventTypes = command.EventTypes,
            OrgId = command.OrgId,
            Description = command.Description,
            Secret = WebhookEndpoint.NewSecret(),
            CreatedAt = now,
        };
        return (WebhookEndpointWithSecret.Of(endpoint), MartenOps.Insert(endpoint));
    }
}

public static class RegisterWebhookEndpoint
{
    public static void MapRegisterWebhook(this IEndpointRouteBuilder api) =>
        api.MapPost("/webhooks", (RegisterWebhookBody body, HttpContext http) =>
                http.Send<RegisterWebhook, WebhookEndpointWithSecret>(
                    new RegisterWebhook(body.Url ?? "", body.EventTypes ?? [], body.OrgId, body.Description),
                    created => TypedResults.Created($"/api/v1/webhooks/{created.Id}", created)))
            .ActsForNoOrganisation(Scopes.Admin)
            .Produces<WebhookEndpointWithSecret>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("RegisterWebhook")
            .WithSummary("Register a webhook endpoint (for every organisation, or one); the answer holds its whsec_ signing secret, shown only here.");
}
