using Shouldly;
using UsageSlices.Features.RegisteringOrganisations;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Features.RegisteringOrganisations;

/// <summary>The handler's decision on loaded state, with no host: what it returns is all it does.</summary>
public sealed class RegisterOrganisationDecisionTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 10, 0, 0, TimeSpan.Zero);
    private static readonly TestClock Clock = new(Now);
    private static readonly Caller Ops = Caller.Operator("ops");
    private static readonly SubscriptionTier Free = DefaultCatalog.Tiers.Single(tier => tier.Code == "free");
    private static readonly SubscriptionTier Pro = DefaultCatalog.Tiers.Single(tier => tier.Code == "pro");

    private static RegisterOrganisation Command(string slug = "acme", string name = "Acme", string? tier = null, int? anchor = null) =>
        new("acme", slug, name, tier, anchor, Ops);

    private static OrganisationState Existing() =>
        new(new Organisation { Id = "acme", Slug = "acme", Name = "Acme", Tier = "free", BillingAnchorDay = 5, CreatedAt = Now.AddDays(-9) }, Version: 2);

    [Fact]
    public void a_new_organisation_starts_its_stream_on_the_default_tier_anchored_today()
    {
        var (outcome, effect) = RegisterOrganisationHandler.Handle(Command(), new RegistrationState(new OrganisationState(null, 0), Free, null), Clock);

        outcome.Value!.Created.ShouldBeTrue();
        outcome.Value.Organisation.Tier.ShouldBe("free");
        (effect.StreamKey, effect.Version).ShouldBe(("acme", 0L));
        effect.Events.ShouldBe([new OrganisationRegistered("acme", "acme", "Acme", "free", 2, Now, "ops")]);
    }

    [Fact]
    public void registering_again_appends_only_what_changed_and_uses_the_tier_rule()
    {
        var (outcome, effect) = RegisterOrganisationHandler.Handle(
            Command(name: "Acme Ltd", tier: "pro"), new RegistrationState(Existing(), Pro, "acme"), Clock);

        outcome.Value!.Created.ShouldBeFalse();
        outcome.Value.Organisation.Tier.ShouldBe("pro");
        effect.Version.ShouldBe(2);
        effect.Events.ShouldBe([
            new OrganisationDetailsChanged("acme", "Acme Ltd", 5, "ops"),
            new TierAssigned("pro", "free", "ops", "Set when the organisation was registered again", Now),
        ]);
    }

    [Fact]
    public void registering_the_same_details_again_changes_nothing()
    {
        var (outcome, effect) = RegisterOrganisationHandler.Handle(Command(tier: "free"), new RegistrationState(Existing(), Free, "acme"), Clock);

        outcome.Value!.Created.ShouldBeFalse();
        effect.Events.ShouldBeEmpty();
    }

    [Fact]
    public void a_slug_of_another_organisation_or_an_unknown_tier_is_refused()
    {
        var (taken, none) = RegisterOrganisationHandler.Handle(Command(), new RegistrationState(new OrganisationState(null, 0), Free, "globex"), Clock);
        taken.Refusal!.Kind.ShouldBe(RefusalKind.Conflict);
        none.Events.ShouldBeEmpty();

        var (unknown, nothing) = RegisterOrganisationHandler.Handle(Command(tier: "platinum"), new RegistrationState(Existing(), null, "acme"), Clock);
        unknown.Refusal!.Errors!.Keys.ShouldBe(["tier"]);
        nothing.Events.ShouldBeEmpty();
    }
}
