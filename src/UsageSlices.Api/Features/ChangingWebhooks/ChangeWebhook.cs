using System.Text.Json;
using FluentValidation;
using Marten;
using UsageSlices.Domain;
using UsageSlices.Domain.Webhooks;
using UsageSlices.Infrastructure;
using Wolverine.Marten;

namespace UsageSlices.Features.ChangingWebhooks;

/// <summary>A PATCH body: every field may be left out. Its properties are not constructor parameters, whose defaults the API description would try to write.</summary>
public sealed record ChangeWebhookBody : IHasExample
{
    public string? Url { get; init; }
    public List<string>? EventTypes { get; init; }

    /// <summary>Left out: unchanged; <c>null</c>: every organisation's events; an id: that organisation's only.</summary>
    public JsonElement OrgId { get; init; }

    /// <summary>Left out: unchanged; <c>null</c>: none.</summary>
    public JsonElement Description { get; init; }
    public bool? Enabled { get; init; }

    public static object Example => new { enabled = false };
}

/// <summary>Change what an endpoint receives or where; the fields left out stay as they are. Enabling it again clears a 410's disabling.</summary>
public sealed record ChangeWebhook(Guid Id, string? Url, IReadOnlyList<string>? EventTypes, Patch OrgId, Patch Description, bool? Enabled)
{
    public sealed class Validator : AbstractValidator<ChangeWebhook>
    {
        public Validator(WebhookSettings settings)
        {
            RuleFor(x => x.Url).MustBeWebhookUrl(settings).When(x => x.Url is not null);
            RuleFor(x => x.EventTypes).MustBeEventTypes();
            RuleFor(x => x.OrgId.IsWrongType).Equal(false).OverridePropertyName("orgId")
                .WithMessage("orgId is an organisation id, or null for every organisation's events.");
            RuleFor(x => x.OrgId.Value!).MustBeOrgId().OverridePropertyName("orgId").When(x => x.OrgId is { IsWrongType: false, Value: not null });
            RuleFor(x => x.Description.IsWrongType).Equal(false).OverridePropertyName("description")
                .WithMessage("description is a string, or null for none.");
            RuleFor(x => x.Description.Value).MustBeDescription().OverridePropertyName("description").When(x => x.Description.Value is not null);
        }
    }
}

public static class ChangeWebhookHandler
{
    public static async Task<(Outcome<WebhookEndpointView>, IMartenOp)> Handle(
        ChangeWebhook command, IQuerySession session, Placements placements, WebhookSettings settings, CancellationToken cancellation)
    {
        if (await session.LoadAsync<WebhookEndpoint>(command.Id, cancellation) is not { } endpoint)
            return (WebhookRefusals.NotFound(command.Id), MartenOps.Nothing());
        if (command.OrgId.Value is { } orgId && !await placements.IsRegisteredAsync(orgId, cancellation))
            return (Refusal.OrganisationNotFound(orgId), MartenOps.Nothing());
        if (command.Url is { } url && await WebhookAddresses.AddressProblemAsync(url, settings.AllowPrivateNetworks, cancellation) is { } problem)
            return (Refusal.Invalid("url", problem), MartenOps.Nothing());

        endpoint.Url = command.Url ?? endpoint.Url;
        endpoint.EventTypes = command.EventTypes ?? endpoint.EventTypes;
        endpoint.OrgId = command.OrgId.Or(endpoint.OrgId);
        endpoint.Description = command.Description.Or(endpoint.Description);
        if (command.Enabled is { } enabled)
        {
            endpoint.Enabled = enabled;
            endpoint.DisabledReason = null;
        }

        return (WebhookEndpointView.Of(endpoint), MartenOps.Store(endpoint));
    }
}

public static class ChangeWebhookEndpoint
{
    public static void MapChangeWebhook(this IEndpointRouteBuilder api) =>
        api.MapPatch("/webhooks/{id:guid}", (Guid id, ChangeWebhookBody body, HttpContext http) =>
                http.Send<ChangeWebhook, WebhookEndpointView>(new ChangeWebhook(
                    id, body.Url, body.EventTypes, Patch.Read(body.OrgId), Patch.Read(body.Description), body.Enabled)))
            .ActsForNoOrganisation(Scopes.Admin)
            .Produces<WebhookEndpointView>().ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("ChangeWebhook")
            .WithSummary("Change an endpoint's url, event types, organisation, description or enabled flag; fields left out stay.");
}
