using FluentValidation;
using Marten;
using UsageSlices.Domain;
using UsageSlices.Infrastructure;

namespace UsageSlices.Features.RegisteringOrganisations;

public sealed record RegisterOrganisationBody(string? Slug, string? Name, string? Tier = null, int? BillingAnchorDay = null) : IHasExample
{
    public static object Example => new { slug = "acme", name = "Acme Ltd", tier = "free", billingAnchorDay = 1 };
}

/// <summary>Create organisation <paramref name="OrgId"/>, or update its details (and tier) if it exists.</summary>
public sealed record RegisterOrganisation(string OrgId, string Slug, string Name, string? Tier, int? BillingAnchorDay, Caller Caller)
    : IActForOrganisation
{
    public sealed class Validator : AbstractValidator<RegisterOrganisation>
    {
        public Validator()
        {
            RuleFor(x => x.OrgId).MustBeOrgId();
            RuleFor(x => x.Slug).NotEmpty().MaximumLength(64).Matches(Identifiers.Slug())
                .WithMessage("A slug is 1-64 lowercase letters, digits or '-', starting with a letter or digit.");
            RuleFor(x => x.Name).NotEmpty().MaximumLength(200)
                .Must(name => name.Trim().Length == name.Length && ValidationRules.HasNoControlCharacters(name))
                .WithMessage("A name is 1-200 characters with no control characters or surrounding spaces.");
            RuleFor(x => x.Tier).MustBeTierCode().When(x => x.Tier is not null);
            RuleFor(x => x.BillingAnchorDay).InclusiveBetween(1, 31).When(x => x.BillingAnchorDay is not null);
        }
    }
}

public sealed record RegisterOrganisationReply(Organisation Organisation, bool Created);

/// <summary>What registering is decided on: the organisation as its stream stands, the tier asked for, and who holds the slug.</summary>
public sealed record RegistrationState(OrganisationState Organisation, SubscriptionTier? Tier, string? SlugOwner);

public static class RegisterOrganisationHandler
{
    /// <summary>Wolverine runs this before <see cref="Handle"/> and passes it what was read (a compound handler).</summary>
    public static async Task<RegistrationState> LoadAsync(RegisterOrganisation command, IQuerySession session, CancellationToken cancellation)
    {
        var batch = session.CreateBatchQuery();
        var organisation = batch.Load<Organisation>(command.OrgId);
        var stream = batch.Events.FetchStreamState(command.OrgId);
        var tier = batch.Load<SubscriptionTier>(command.Tier ?? DefaultCatalog.DefaultTier);
        var slugOwner = batch.Query<Organisation>().Where(o => o.Slug == command.Slug).Select(o => o.Id).FirstOrDefault();
        await batch.Execute(cancellation);
        return new RegistrationState(new OrganisationState(await organisation, (await stream)?.Version ?? 0), await tier, await slugOwner);
    }

    public static (Outcome<RegisterOrganisationReply>, AppendEvents) Handle(RegisterOrganisation command, RegistrationState state, TimeProvider time)
    {
        var nothing = new AppendEvents(command.OrgId, state.Organisation.Version, []);
        if (command.Tier is { } code && state.Tier is null)
            return (Refusal.UnknownTier(code), nothing);
        if (state.SlugOwner is { } owner && owner != command.OrgId)
            return (Refusal.SlugTaken(command.Slug, owner), nothing);

        var now = time.GetUtcNow();
        var actor = command.Caller.Subject;
        if (state.Organisation.Organisation is not { } organisation)
        {
            var registered = new OrganisationRegistered(
                command.OrgId, command.Slug, command.Name, command.Tier ?? DefaultCatalog.DefaultTier,
                command.BillingAnchorDay ?? now.UtcDateTime.Day, now, actor);
            return (new RegisterOrganisationReply(OrganisationProjection.Create(registered), Created: true), nothing with { Events = [registered] });
        }

        var events = new List<object>();
        var anchorDay = command.BillingAnchorDay ?? organisation.BillingAnchorDay;
        if (command.Slug != organisation.Slug || command.Name != organisation.Name || anchorDay != organisation.BillingAnchorDay)
        {
            var changed = new OrganisationDetailsChanged(command.Slug, command.Name, anchorDay, actor);
            events.Add(changed);
            OrganisationProjection.Apply(changed, organisation);
        }

        if (command.Tier is { } tier)
        {
            TierAssignments.Assign(organisation, tier, state.Tier, actor, "Set when the organisation was registered again", now, out var assigned);
            if (assigned is not null)
            {
                events.Add(assigned);
                OrganisationProjection.Apply(assigned, organisation);
            }
        }

        return (new RegisterOrganisationReply(organisation, Created: false), nothing with { Events = events });
    }
}

public static class RegisterOrganisationEndpoint
{
    public static void MapRegisterOrganisation(this IEndpointRouteBuilder api) =>
        api.MapPut("/organisations/{orgId}", (string orgId, RegisterOrganisationBody body, HttpContext http, Placements placements) =>
                http.Send<RegisterOrganisation, RegisterOrganisationReply>(
                    new RegisterOrganisation(orgId, body.Slug ?? "", body.Name ?? "", body.Tier, body.BillingAnchorDay, http.Caller()),
                    async (command, cancellation) =>
                    {
                        // With shards, the organisation's place and its slug are claimed in the main database first
                        // (docs/scaling.md); a registration the handler refuses gives the slug back.
                        var placed = await placements.ClaimAsync(command.OrgId, command.Slug, cancellation);
                        if (placed.Refusal is { } taken)
                            return taken;
                        var outcome = await http.RequestServices.InvokeHandlerAsync<RegisterOrganisation, RegisterOrganisationReply>(command, cancellation);
                        if (outcome.Refusal is not null)
                            await placements.RestoreAsync(command.OrgId, placed.Value!, cancellation);
                        return outcome;
                    },
                    registration => registration.Created
                        ? TypedResults.Created($"/api/v1/organisations/{orgId}", registration.Organisation)
                        : TypedResults.Ok(registration.Organisation)))
            .ActsForOrganisationInRoute(Scopes.Admin)
            .Produces<Organisation>().Produces<Organisation>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status409Conflict)
            .WithName("RegisterOrganisation")
            .WithSummary("Register an organisation (201), or update its slug, name, anchor day or tier (200).");
}
