using JasperFx.CommandLine;
using Marten;
using UsageSlices.Domain;
using UsageSlices.Features.AssigningTiers;
using UsageSlices.Infrastructure;

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
        using var host = await OperatorBus.StartAsync(input);
        var store = host.Services.GetRequiredService<IDocumentStore>();
        var database = host.Services.GetRequiredService<DatabaseSettings>();

        // By id, or looked for in every shard (one, without shards), each holding its own organisations.
        var organisations = new List<string>();
        if (input.OrgFlag is { } id)
            organisations.Add(id);
        else
        {
            foreach (var shard in database.Shards)
            {
                await using var query = store.QuerySessionOf(database, shard.Name);
                organisations.AddRange(input switch
                {
                    { SlugFlag: { } slug } => await query.Query<Organisation>().Where(o => o.Slug == slug).Select(o => o.Id).ToListAsync(),
                    { AllOnDefaultFlag: true } => await query.Query<Organisation>().Where(o => o.Tier == DefaultCatalog.DefaultTier).Select(o => o.Id).ToListAsync(),
                    _ => [],
                });
            }
        }

        if (organisations.Count == 0)
        {
            Console.Error.WriteLine(input.OrgFlag is null && input.SlugFlag is null && !input.AllOnDefaultFlag
                ? "Say which organisations: --org ID, --slug SLUG or --all-on-default."
                : "No organisation matches.");
            return input.AllOnDefaultFlag;
        }

        var failed = false;
        var caller = Caller.Operator("assign-tier");
        foreach (var orgId in organisations)
        {
            // The same path as PUT /api/v1/usage/{orgId}/tier: validated, then the bus with its transaction and retries.
            var command = new AssignTier(orgId, input.TierFlag, input.ReasonFlag ?? "Assigned with the assign-tier command", caller);
            var outcome = await host.Services.InvokeAsync<AssignTier, AssignTierReply>(command, CancellationToken.None);
            if (outcome.Refusal is { } refusal)
            {
                Console.Error.WriteLine($"{orgId}: {refusal.Detail}");
                failed = true;
                continue;
            }

            var assignment = outcome.Value!;
            Console.WriteLine(assignment.Changed
                ? $"{orgId}: {assignment.PreviousTier} -> {assignment.Tier}"
                : $"{orgId}: already on {assignment.Tier}");
        }

        return !failed;
    }
}
