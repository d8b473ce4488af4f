using FluentValidation;
using Marten;
using UsageSlices.Domain;
using UsageSlices.Infrastructure;

namespace UsageSlices.Features.RegisteringOrganisations;

public sealed record RegisterOrganisationBody(string? Slug, string? Name, string? Tier = null, int? BillingAnchorDay = null);

/// <summary>Create organisation <paramref name="OrgId"/>, or update its details (and tier) if it exists.</summary>
public sealed record RegisterOrganisation(string OrgId, string Slug, string Name, string? Tier, int? BillingAnchorDay, string Actor)
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

public sealed record Registration(Organisation Organisation, bool Created);

public static class RegisterOrganisationHandler
{
    public static async Task<Outcome<Registration>> Handle(
        RegisterOrganisation command, IDocumentSession session, TimeProvider time, CancellationToken cancellation)
    {
        if (command.Tier is not null && await session.LoadAsync<SubscriptionTier>(command.Tier, cancellation) is null)
            return Problems.Invalid("tier", $"'{command.Tier}' is not a tier.");
        var slugOwner = await session.Query<Organisation>().Where(o => o.Slug == command.Slug).Select(o => o.Id).FirstOrDefaultAsync(cancellation);
        if (slugOwner is not null && slugOwner != command.OrgId)
            return Problems.Conflict($"The slug '{command.Slug}' belongs to organisation '{slugOwner}'.");

        var now = time.GetUtcNow();
        var stream = await session.Events.FetchForWriting<Organisation>(command.OrgId, cancellation);
        if (stream.Aggregate is not { } organisation)
        {
            var registered = new OrganisationRegistered(
                command.OrgId, command.Slug, command.Name, command.Tier ?? DefaultCatalog.DefaultTier,
                command.BillingAnchorDay ?? now.UtcDateTime.Day, now, command.Actor);
            stream.AppendOne(registered);
            return new Registration(OrganisationProjection.Create(registered), Created: true);
        }

        var anchorDay = command.BillingAnchorDay ?? organisation.BillingAnchorDay;
        if (command.Slug != organisation.Slug || command.Name != organisation.Name || anchorDay != organisation.BillingAnchorDay)
        {
            var changed = new OrganisationDetailsChanged(command.Slug, command.Name, anchorDay, command.Actor);
            stream.AppendOne(changed);
            OrganisationProjection.Apply(changed, organisation);
        }

        if (command.Tier is { } tier && tier != organisation.Tier)
        {
            var assigned = new TierAssigned(tier, organisation.Tier, command.Actor, "Set when the organisation was registered again", now);
            stream.AppendOne(assigned);
            OrganisationProjection.Apply(assigned, organisation);
        }

        return new Registration(organisation, Created: false);
    }
}

public static class RegisterOrganisationEndpoint
{
    public static void MapRegisterOrganisation(this IEndpointRouteBuilder api) =>
        api.MapPut("/organisations/{orgId}", (string orgId, RegisterOrganisationBody body, HttpContext http) =>
                http.Send<RegisterOrganisation, Registration>(
                    new RegisterOrganisation(orgId, body.Slug ?? "", body.Name ?? "", body.Tier, body.BillingAnchorDay, http.User.Actor()),
                    registration => registration.Created
                        ? TypedResults.Created($"/api/v1/organisations/{orgId}", registration.Organisation)
                        : TypedResults.Ok(registration.Organisation)))
            .RequireAuthorization(Scopes.Admin)
            .Produces<Organisation>().Produces<Organisation>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status409Conflict)
            .WithName("RegisterOrganisation")
            .WithSummary("Register an organisation (201), or update its slug, name, anchor day or tier (200).");
}
