using JasperFx.CommandLine;
using UsageSlices.Features.PlacingOrganisations;
using UsageSlices.Infrastructure;

namespace UsageSlices.Commands;

public sealed class PlaceOrganisationInput : NetCoreInput
{
    [Description("The organisation's id")]
    [FlagAlias("org")]
    public string OrgFlag { get; set; } = "";

    [Description("The shard to place it in (the shards command lists them)")]
    [FlagAlias("shard")]
    public string ShardFlag { get; set; } = "";
}

[Description("Choose the shard of an organisation before it is registered; its registration then goes there", Name = "place-organisation")]
public sealed class PlaceOrganisationCommand : JasperFxAsyncCommand<PlaceOrganisationInput>
{
    public override async Task<bool> Execute(PlaceOrganisationInput input)
    {
        // Only the main database is written: Wolverine, which would migrate every shard first, is not started.
        using var host = input.BuildHost();
        var placements = host.Services.GetRequiredService<Placements>();
        var outcome = await host.Services.InvokeAsync(
            new PlaceOrganisation(input.OrgFlag, input.ShardFlag), (command, token) => PlaceOrganisationHandler.Handle(command, placements, token),
            CancellationToken.None);
        if (outcome.Refusal is { } refusal)
        {
            Console.Error.WriteLine(refusal.Detail);
            return false;
        }

        Console.WriteLine($"{outcome.Value!.Id}: placed in shard {outcome.Value.Shard}");
        return true;
    }
}
