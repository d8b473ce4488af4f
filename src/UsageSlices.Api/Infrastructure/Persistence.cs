using JasperFx;
using JasperFx.Events;
using Marten;
using UsageSlices.Domain;
using UsageSlices.Features.TrackingUsage;
using Weasel.Core;
using Wolverine;
using Wolverine.ErrorHandling;
using Wolverine.Marten;

namespace UsageSlices.Infrastructure;

public static class Persistence
{
    public const string DefaultSchema = "usage_slices";

    public static WebApplicationBuilder AddUsagePersistence(this WebApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString("Postgres")
            ?? throw new InvalidOperationException("ConnectionStrings:Postgres must be configured.");
        var schema = builder.Configuration["Database:Schema"] ?? DefaultSchema;

        builder.Services.AddMarten(options =>
        {
            options.Connection(connectionString);
            options.DatabaseSchemaName = schema;
            options.AutoCreateSchemaObjects = AutoCreate.CreateOrUpdate;
            options.UseSystemTextJsonForSerialization(EnumStorage.AsString, Casing.CamelCase);

            // Organisation ids are the caller's own strings, and usage streams are keyed by (org, feature, period).
            options.Events.StreamIdentity = StreamIdentity.AsString;
            options.Projections.Add<OrganisationProjection>(JasperFx.Events.Projections.ProjectionLifecycle.Inline);
            options.Projections.Add<UsageCounterProjection>(JasperFx.Events.Projections.ProjectionLifecycle.Inline);

            options.Schema.For<Organisation>().UniqueIndex(organisation => organisation.Slug);
            options.Schema.For<UsageFeature>().Identity(feature => feature.Code);
            options.Schema.For<SubscriptionTier>().Identity(tier => tier.Code);
            options.Schema.For<IdempotencyRecord>();
        })
            .UseLightweightSessions()
            .InitializeWith<CatalogSeed>()
            .ApplyAllDatabaseChangesOnStartup()
            .IntegrateWithWolverine();

        builder.Services.AddWolverine(options =>
        {
            options.ApplicationAssembly = typeof(Program).Assembly;
            options.UseRuntimeCompilation();
            options.Policies.AutoApplyTransactions();

            // Two writers that race on one usage stream, one idempotency key or one new organisation: the loser
            // runs its handler again on fresh state, where it sees the winner's write.
            options.OnException<ConcurrencyException>()
                .Or<Marten.Exceptions.ExistingStreamIdCollisionException>()
                .Or<JasperFx.Events.ExistingStreamIdCollisionException>()
                .Or<DocumentAlreadyExistsException>()
                .RetryWithCooldown(
                    TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(20),
                    TimeSpan.FromMilliseconds(40), TimeSpan.FromMilliseconds(80));
        });
        builder.Services.AddHealthChecks()
            .AddNpgSql(connectionString, name: "postgres", tags: ["ready"], timeout: TimeSpan.FromSeconds(3));
        return builder;
    }
}
