using JasperFx;
using JasperFx.CodeGeneration;
using JasperFx.Events;
using Marten;
using Marten.Exceptions;
using Npgsql;
using UsageSlices.Domain;
using UsageSlices.Domain.Usage;
using UsageSlices.Domain.Webhooks;
using Weasel.Core;
using Wolverine;
using Wolverine.ErrorHandling;
using Wolverine.Marten;

namespace UsageSlices.Infrastructure;

/// <summary>
/// Where the service keeps its data, for the parts that reach PostgreSQL besides Marten and Wolverine: the main
/// database, the schema (the same in every database), and every database, the main one first.
/// </summary>
public sealed record DatabaseSettings(string ConnectionString, string Schema, IReadOnlyList<Shard> Shards)
{
    /// <summary>More than one database: Marten has a tenant per database, and organisations have placements.</summary>
    public bool Sharded => Shards.Count > 1;
}

public static class Persistence
{
    public const string DefaultSchema = "usage_slices";

    private const string PreGeneratedHandlers = "Internal.Generated.WolverineHandlers.GeneratedHandlerRegistry";

    /// <summary>Marten's quick append raises this when a stream was started by another writer since it was read.</summary>
    private const string StreamVersionMismatch = "MT003";

    /// <summary>
    /// Two writers raced on one usage stream, one idempotency key or one new organisation: the loser runs its
    /// handler again on fresh state, where it sees the winner's write. Two transactions that create the same new
    /// streams or insert the same keys in different orders can also deadlock; PostgreSQL aborts one, which retries.
    /// </summary>
    public static bool IsWriteConflict(Exception exception) => exception switch
    {
        ConcurrencyException
            or Marten.Exceptions.ExistingStreamIdCollisionException
            or JasperFx.Events.ExistingStreamIdCollisionException
            or DocumentAlreadyExistsException
            or MartenCommandException { InnerException: PostgresException { SqlState: StreamVersionMismatch or PostgresErrorCodes.DeadlockDetected } }
            or PostgresException { SqlState: PostgresErrorCodes.DeadlockDetected } => true,
        // A batch that loses several races at once (its idempotency records) gets them all in one AggregateException.
        AggregateException aggregate => aggregate.InnerExceptions.All(IsWriteConflict),
        _ => false,
    };

    /// <summary>
    /// Every call runs the same few statements, so Npgsql prepares them once per connection and PostgreSQL skips
    /// parsing and planning them again: measured +12% checks/s and +50% tracks/s (docs/benchmarks.md).
    /// </summary>
    public const int DefaultMaxAutoPrepare = 64;

    /// <summary>The connection string as the service uses it: the pool size and statement preparation defaulted where it names none.</summary>
    public static string WithDefaults(string connectionString)
    {
        // A plain builder holds only the keys that were written (Npgsql's own claims to hold every keyword).
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        var withDefaults = new NpgsqlConnectionStringBuilder(connectionString);
        if (!(given.ContainsKey("Maximum Pool Size") || given.ContainsKey("Max Pool Size") || given.ContainsKey("MaxPoolSize")))
            withDefaults.MaxPoolSize = ConnectionBudget.DefaultMaxPoolSize;
        if (!(given.ContainsKey("Max Auto Prepare") || given.ContainsKey("MaxAutoPrepare")))
            withDefaults.MaxAutoPrepare = DefaultMaxAutoPrepare;
        return withDefaults.ConnectionString;
    }

    /// <summary>What Marten keeps, in every database alike: documents, events and their projections, the read model and the runbook views.</summary>
    private static void DescribeDocuments(StoreOptions options, string schema)
    {
        options.DatabaseSchemaName = schema;
        options.AutoCreateSchemaObjects = AutoCreate.CreateOrUpdate;
        options.UseSystemTextJsonForSerialization(EnumStorage.AsString, Casing.CamelCase);
        // One connection per session, not one per command: every connection taken from the pool costs
        // PostgreSQL Npgsql's seven-statement state reset, which pg_stat_statements showed to be most of the
        // statements a check ran (14 of 18). Sessions are short (one handler) and always disposed.
        options.UseStickyConnectionLifetimes = true;

        // Organisation ids are the caller's own strings, and usage streams are keyed by (org, feature, period).
        options.Events.StreamIdentity = StreamIdentity.AsString;
        options.Projections.Add<OrganisationProjection>(JasperFx.Events.Projections.ProjectionLifecycle.Inline);
        options.Projections.Add<UsageCounterProjection>(JasperFx.Events.Projections.ProjectionLifecycle.Inline);
        options.Projections.Add(new UsageHistoryProjection(schema), JasperFx.Events.Projections.ProjectionLifecycle.Inline);

        options.Schema.For<Organisation>().UniqueIndex(organisation => organisation.Slug);
        options.Schema.For<UsageFeature>().Identity(feature => feature.Code);
        options.Schema.For<SubscriptionTier>().Identity(tier => tier.Code);
        options.Schema.For<IdempotencyRecord>();
        options.Schema.For<LimitOverride>().Index(o => o.OrgId);
        options.Schema.For<Reservation>().Index(r => r.OrgId);
        options.Schema.For<ReservationKey>();
        options.Schema.For<CorrectionKey>();
        options.Schema.For<WebhookEndpoint>();
        options.Schema.For<WebhookDelivery>().Index(d => d.WebhookId);
        // Kept in the main database only, and used only with shards (docs/scaling.md).
        options.Schema.For<OrganisationPlacement>().UniqueIndex(p => p.Slug!).Index(p => p.Shard);
        // Two replications that find the same replica: one commits, the other is retried and finds it newer.
        options.Schema.For<CatalogReplica>().UseOptimisticConcurrency(true);
        options.Storage.Add(new ReadModelSchema(schema));
        options.Listeners.Add(new UsageMetricsListener());
    }

    /// <summary>
    /// The whole Marten schema applied to a database the service does not use yet (the <c>add-shard</c> command);
    /// Wolverine's envelope tables follow when a service configured with it starts.
    /// </summary>
    public static async Task ApplySchemaAsync(string connectionString, string schema, CancellationToken cancellation)
    {
        await using var store = DocumentStore.For(options =>
        {
            options.Connection(connectionString);
            DescribeDocuments(options, schema);
        });
        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
    }

    /// <param name="routing">Where the slices' messages go (the durable queue of async tracking): the slices say, not this file.</param>
    /// <param name="mediatorOnly">An operator's command: Wolverine only invokes handlers, with no durability agents of its own.</param>
    public static WebApplicationBuilder AddUsagePersistence(this WebApplicationBuilder builder, Action<WolverineOptions> routing, bool mediatorOnly)
    {
        var connectionString = WithDefaults(builder.Configuration.GetConnectionString("Postgres")
            ?? throw new InvalidOperationException("ConnectionStrings:Postgres must be configured."));
        var schema = builder.Configuration["Database:Schema"] ?? DefaultSchema;
        var shards = Shards.From(builder.Configuration, connectionString);

        builder.Services.AddMarten(options =>
        {
            if (shards.Count == 1)
            {
                options.Connection(ConnectionBudget.Writers(connectionString));
            }
            else
            {
                // A Marten tenant per database (docs/scaling.md). The main database is added first: a session opened
                // without a tenant goes there, which is where the slices that act for no organisation keep their data.
                options.MultiTenantedDatabases(databases =>
                {
                    foreach (var shard in shards)
                        databases.AddSingleTenantDatabase(ConnectionBudget.Writers(shard.ConnectionString), shard.Name);
                });
                options.Advanced.DefaultTenantUsageEnabled = true;
            }

            DescribeDocuments(options, schema);
        })
            .UseLightweightSessions()
            .InitializeWith<CatalogSeed>()
            .ApplyAllDatabaseChangesOnStartup()
            // The events a webhook announces go to Wolverine through the outbox of the transaction that recorded them.
            // An operator's command runs Wolverine as a mediator only, which cannot publish: its changes are not announced.
            .IntegrateWithWolverine(forwarding =>
            {
                // Wolverine's nodes, leadership and agent assignments: in the main database; each shard has its envelopes.
                if (shards.Count > 1)
                    forwarding.MainDatabaseConnectionString = ConnectionBudget.Writers(connectionString);
                if (mediatorOnly)
                    return;
                // Marten's "event forwarding": at SaveChangesAsync, through the session's enrolled outbox.
                forwarding.UseFastEventForwarding = true;
                forwarding.SubscribeToEvent<UsageThresholdCrossed>().TransformedTo(WebhookEventRaised.ThresholdCrossed);
                forwarding.SubscribeToEvent<TierAssigned>().TransformedTo(WebhookEventRaised.TierAssigned);
                forwarding.SubscribeToEvent<LimitOverrideGranted>().TransformedTo(WebhookEventRaised.OverrideGranted);
                forwarding.SubscribeToEvent<LimitOverrideRevoked>().TransformedTo(WebhookEventRaised.OverrideRevoked);
                forwarding.SubscribeToEvent<LimitOverrideExpired>().TransformedTo(WebhookEventRaised.OverrideExpired);
            });

        builder.Services.AddWolverine(options =>
        {
            options.ApplicationAssembly = typeof(Program).Assembly;
            options.UseRuntimeCompilation();
            // A published build carries handler code generated at build time (build.cake's Publish runs
            // `codegen write`) and loads it statically: faster and leaner start-up. Other builds generate it at run time.
            options.CodeGeneration.TypeLoadMode = typeof(Program).Assembly.GetType(PreGeneratedHandlers) is null
                ? TypeLoadMode.Dynamic
                : TypeLoadMode.Static;
            options.Policies.AutoApplyTransactions();

            options.OnException(IsWriteConflict).RetryWithCooldown(
                TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(20),
                TimeSpan.FromMilliseconds(40), TimeSpan.FromMilliseconds(80));

            // An instance that dies leaves queued track messages owned by it; another instance (or its own restart)
            // takes them over once its heartbeat is this stale. Taking over a slow but live instance's messages is
            // safe, because every queued message carries an idempotency key, so recovery can be quick.
            options.Durability.HealthCheckPollingTime = TimeSpan.FromSeconds(5);
            options.Durability.StaleNodeTimeout = TimeSpan.FromSeconds(15);
            // A reservation's hold counts against the limit until its scheduled release runs: looking for due
            // releases every second keeps an expired hold from blocking usage for longer than that.
            options.Durability.ScheduledJobPollingTime = TimeSpan.FromSeconds(1);

            routing(options);
            if (mediatorOnly)
                options.Durability.Mode = DurabilityMode.MediatorOnly;
        });
        builder.Services.AddSingleton(new DatabaseSettings(connectionString, schema, shards));
        foreach (var shard in shards)
            builder.Services.AddKeyedSingleton(CatalogCache.ReadsKeyOf(shard.Name), (_, _) => NpgsqlDataSource.Create(ConnectionBudget.Reads(shard.ConnectionString)));
        builder.Services.AddSingleton<Placements>();
        builder.Services.AddSingleton<CatalogCache>();
        // Single track calls share transactions (group commit); registered after Wolverine, so it stops first and drains.
        builder.Services.AddSingleton<UsageGroupCommit>().AddHostedService(services => services.GetRequiredService<UsageGroupCommit>());
        // After Wolverine's start, before the first call: every shard holds the main database's catalog.
        if (shards.Count > 1 && !mediatorOnly)
            builder.Services.AddHostedService<CatalogReplicationAtStart>();
        builder.Services.AddDatabaseProbe(connectionString);
        return builder;
    }
}
