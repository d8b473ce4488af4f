using FluentValidation;
using UsageSlices.Domain;
using UsageSlices.Infrastructure;

namespace UsageSlices.Features.PlacingOrganisations;

/// <summary>Choose the shard of an organisation that is not registered yet: its registration then goes there (docs/scaling.md).</summary>
public sealed record PlaceOrganisation(string OrgId, string Shard)
{
    public sealed class Validator : AbstractValidator<PlaceOrganisation>
    {
        public Validator()
        {
            RuleFor(x => x.OrgId).MustBeOrgId();
            RuleFor(x => x.Shard).NotEmpty().WithMessage("Name the shard (the shards command lists them).");
        }
    }
}

public static class PlaceOrganisationHandler
{
    /// <summary>The placement is the one write, to the main database, and it is the routing's own record: no Marten session of a shard is involved.</summary>
    public static Task<Outcome<OrganisationPlacement>> Handle(PlaceOrganisation command, Placements placements, CancellationToken cancellation) =>
        placements.PlaceAsync(command.OrgId, command.Shard, cancellation);
}
