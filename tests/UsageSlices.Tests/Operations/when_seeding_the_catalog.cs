using Marten;
using Shouldly;
using UsageSlices.Infrastructure;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Operations;

public sealed class when_seeding_the_catalog(AppFixture app) : ApiTest(app)
{
    [Fact]
    public async Task seeding_twice_changes_nothing_the_second_time()
    {
        await CatalogSeed.UpsertAllAsync(Store, Cancel);

        (await CatalogSeed.UpsertAllAsync(Store, Cancel)).ShouldBe(0);

        await using var session = Store.QuerySession();
        (await session.Query<SubscriptionTier>().CountAsync(Cancel)).ShouldBe(4);
        (await session.Query<UsageFeature>().CountAsync(Cancel)).ShouldBe(8);
    }

    [Fact]
    public async Task seeding_restores_a_changed_tier_and_keeps_tiers_of_its_own()
    {
        await using (var session = Store.LightweightSession())
        {
            var free = await session.LoadAsync<SubscriptionTier>("free", Cancel);
            session.Store(free! with { PriceMonthly = 5m });
            session.Store(new SubscriptionTier("team", "Team", 49m, "USD", new Dictionary<string, TierLimit>()));
            await session.SaveChangesAsync(Cancel);
        }

        (await CatalogSeed.UpsertAllAsync(Store, Cancel)).ShouldBe(1);

        await using var query = Store.QuerySession();
        (await query.LoadAsync<SubscriptionTier>("free", Cancel))!.PriceMonthly.ShouldBe(0m);
        (await query.LoadAsync<SubscriptionTier>("team", Cancel)).ShouldNotBeNull();
    }

    [Fact]
    public async Task start_up_seeding_adds_only_what_is_missing_so_an_admins_change_survives()
    {
        await using (var session = Store.LightweightSession())
        {
            var pro = await session.LoadAsync<SubscriptionTier>("pro", Cancel);
            session.Store(pro! with { PriceMonthly = 99m });
            session.Delete<UsageFeature>("STORAGE_MB");
            await session.SaveChangesAsync(Cancel);
        }

        await new CatalogSeed().Populate(Store, Cancel);

        await using var query = Store.QuerySession();
        (await query.LoadAsync<SubscriptionTier>("pro", Cancel))!.PriceMonthly.ShouldBe(99m);
        (await query.LoadAsync<UsageFeature>("STORAGE_MB", Cancel)).ShouldNotBeNull();
    }
}
