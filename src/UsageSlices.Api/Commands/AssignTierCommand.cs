using JasperFx.CommandLine;
using Marten;
using UsageSlices.Domain;
using UsageSlices.Features.AssigningTiers;

namespace UsageSlices.Commands;

public sealed class AssignTierInput : NetCoreInput
{
    [Description("The organisation's id")]
    [FlagAlias("org")]
    public string? OrgFlag { get; set; }

    [Description("The organisation's slug (instead of --org)")]
    [FlagAlias("slug")]
    public string? SlugFlag { get; set; }

    [Description("Every organisation still on the default tier (free), as the runbook's bulk UPDATE did")]
    [FlagAlias("all-on-default")]
    public bool AllOnDefaultFlag { get; set; }

    [Description("The tier to assign")]
    [FlagAlias("tier")]
    public string TierFlag { get; set; } = "";

    [Description("Why, recorded with the TierAssigned event")]
    [FlagAlias("reason")]
    public string? ReasonFlag { get; set; }
}

[Description("Move organisations onto a tier (by --org, --slug, or --all-on-default), recording TierAssigned events", Name = "assign-tier")]
public sealed class AssignTierCommand : JasperFxAsyncCommand<AssignTierInput>
{
    public override async Task<bool> Execute(AssignTierInput input)
    {
        using var host = input.BuildHost();
        var store = host.Services.GetRequiredService<IDocumentStore>();
        var time = host.Services.GetRequiredService<TimeProvider>();
        var validator = new AssignTier.Validator();

        IReadOnlyList<string> organisations;
        await using (var query = store.QuerySession())
        {
            organisations = input switch
            {
                { OrgFlag: { } id } => [id],
                { SlugFlag: { } slug } => await query.Query<Organisation>().Where(o => o.Slug == slug).Select(o => o.Id).ToListAsync(),
                { AllOnDefaultFlag: true } => await query.Query<Organisation>().Where(o => o.Tier == DefaultCatalog.DefaultTier).Select(o => o.Id).ToListAsync(),
                _ => [],
            };
        }

        if (organisations.Count == 0)
        {
            Console.Error.WriteLine(input.OrgFlag is null && input.SlugFlag is null && !input.AllOnDefaultFlag
                ? "Say which organisations: --org ID, --slug SLUG or --all-on-default."
                : "No organisation matches.");
            return input.AllOnDefaultFlag;
        }

        var failed = false;
        foreach (var orgId in organisations)
        {
            var command = new AssignTier(orgId, input.TierFlag, input.ReasonFlag ?? "Assigned with the assign-tier command", "assign-tier");
            if (validator.Validate(command) is { IsValid: false } invalid)
            {
                Console.Error.WriteLine($"{orgId}: {invalid.Errors[0].ErrorMessage}");
                failed = true;
                continue;
            }

            // The same handler as PUT /api/v1/usage/{orgId}/tier, committed here as Wolverine would.
            await using var session = store.LightweightSession();
            var outcome = await AssignTierHandler.Handle(command, session, time, CancellationToken.None);
            if (outcome.Problem is { } problem)
            {
                Console.Error.WriteLine($"{orgId}: {problem.Detail}");
                failed = true;
                continue;
            }

            await session.SaveChangesAsync();
            var assignment = outcome.Value!;
            Console.WriteLine(assignment.Changed
                ? $"{orgId}: {assignment.PreviousTier} -> {assignment.Tier}"
                : $"{orgId}: already on {assignment.Tier}");
        }

        return !failed;
    }
}
