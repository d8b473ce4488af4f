using Shouldly;
using UsageSlices.Features.AssigningTiers;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Features.AssigningTiers;

/// <summary>The handler's decision on loaded state, with no host: what it returns is all it does.</summary>
public sealed class AssignTierDecisionTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 10, 0, 0, TimeSpan.Zero);
    private static readonly TestClock Clock = new(Now);
    private static readonly Caller Ops = Caller.Operator("ops");
    private static readonly SubscriptionTier Pro = DefaultCatalog.Tiers.Single(tier => tier.Code == "pro");

    private static OrganisationState Acme(string tier = "free") =>
        new(new Organisation { Id = "acme", Slug = "acme", Name = "Acme", Tier = tier, BillingAnchorDay = 1 }, Version: 3);

    [Fact]
    public void a_new_tier_is_an_event_with_the_previous_tier_actor_and_reason_on_the_version_read()
    {
        var (outcome, effect) = AssignTierHandler.Handle(new AssignTier("acme", "pro", "upgrade", Ops), new AssignTierState(Acme(), Pro), Clock);

        outcome.Value.ShouldBe(new AssignTierReply("acme", "pro", "free", Changed: true, "upgrade", Now));
        (effect.StreamKey, effect.Version).ShouldBe(("acme", 3L));
        effect.Events.ShouldBe([new TierAssigned("pro", "free", "ops", "upgrade", Now)]);
    }

    [Fact]
    public void the_same_tier_is_no_change_and_no_event()
    {
        var (outcome, effect) = AssignTierHandler.Handle(new AssignTier("acme", "pro", null, Ops), new AssignTierState(Acme("pro"), Pro), Clock);

        outcome.Value!.Changed.ShouldBeFalse();
        effect.Events.ShouldBeEmpty();
    }

    [Fact]
    public void an_unknown_organisation_or_tier_is_refused_with_no_event()
    {
        var (missing, none) = AssignTierHandler.Handle(new AssignTier("ghost", "pro", null, Ops), new AssignTierState(new OrganisationState(null, 0), Pro), Clock);
        missing.Refusal!.Kind.ShouldBe(RefusalKind.NotFound);
        none.Events.ShouldBeEmpty();

        var (unknown, nothing) = AssignTierHandler.Handle(new AssignTier("acme", "platinum", null, Ops), new AssignTierState(Acme(), null), Clock);
        unknown.Refusal!.Errors!.Keys.ShouldBe(["tier"]);
        nothing.Events.ShouldBeEmpty();
    }
}
