using Shouldly;
using UsageSlices.Features.ReservingUsage;

namespace UsageSlices.Tests.Features.ReservingUsage;

/// <summary>The reserve decision (<see cref="ReserveUsageHandler.Decide"/>) as a pure function: no host, no database.</summary>
public sealed class ReserveDecisionTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 10, 0, 0, TimeSpan.Zero);
    private static readonly Organisation Acme = new() { Id = "acme", Slug = "acme", Name = "Acme", Tier = "free", BillingAnchorDay = 1 };
    private static readonly UsageFeature Messages = DefaultCatalog.Features.Single(feature => feature.Code == "AI_MESSAGES");
    private static readonly Period Month = Periods.Month(Now, 1);
    private static readonly EffectiveLimit Fifty = EffectiveLimit.OfTier(TierLimit.Quota(50));

    private static ReserveUsage Reserve(long quantity, string? key = null) =>
        new("acme", "AI_MESSAGES", quantity, ExpiresInSeconds: 120, key, null, new Dictionary<string, string> { ["model"] = "large" });

    [Fact]
    public void a_hold_that_fits_is_made_with_its_expiry_period_and_key()
    {
        var decision = ReserveUsageHandler.Decide(Reserve(20, "job-1"), Acme, Messages, Fifty, Month, "acme:stream", used: 10, reserved: 15, Now).Value!;

        var reservation = decision.Reservation;
        (reservation.Quantity, reservation.HoldStream, reservation.Status, reservation.ExpiresAt).ShouldBe((20, "acme:stream", ReservationStatus.Active, Now.AddSeconds(120)));
        reservation.Properties!["model"].ShouldBe("large");
        (decision.Reserved.Quantity, decision.Reserved.PeriodStart).ShouldBe((20, Month.Start));
        decision.Key.ShouldBe(new ReservationKey("acme:job-1", reservation.Id, "AI_MESSAGES", 20));
        (reservation.Reply.Used, reservation.Reply.Reserved, reservation.Reply.Remaining, reservation.Reply.Duplicate).ShouldBe((10, 35, 5, false));
    }

    [Fact]
    public void a_hold_exactly_to_the_limit_fits_and_one_more_does_not()
    {
        ReserveUsageHandler.Decide(Reserve(25), Acme, Messages, Fifty, Month, "s", used: 10, reserved: 15, Now).Refusal.ShouldBeNull();

        var refusal = (LimitReached)ReserveUsageHandler.Decide(Reserve(26), Acme, Messages, Fifty, Month, "s", used: 10, reserved: 15, Now).Refusal!;

        (refusal.Reason, refusal.Reserved, refusal.Remaining).ShouldBe((LimitReason.RequestedExceedsRemaining, 15, 25));
    }

    [Fact]
    public void an_unlimited_feature_holds_anything_and_an_absent_one_nothing()
    {
        ReserveUsageHandler.Decide(Reserve(1_000_000), Acme, Messages, EffectiveLimit.OfTier(TierLimit.Quota(null)), Month, "s", 0, 0, Now).Refusal.ShouldBeNull();

        ((LimitReached)ReserveUsageHandler.Decide(Reserve(1), Acme, Messages, EffectiveLimit.OfTier(TierLimit.Quota(0)), Month, "s", 0, 0, Now).Refusal!)
            .Reason.ShouldBe(LimitReason.NotInTier);
    }
}
