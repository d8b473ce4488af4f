using FluentValidation;
using Marten;
using UsageSlices.Domain;
using UsageSlices.Domain.Usage;
using UsageSlices.Infrastructure;
using Wolverine;

namespace UsageSlices.Features.ReservingUsage;

public sealed record ReserveUsageBody(
    string? Feature,
    long Quantity = 1,
    int ExpiresInSeconds = ReserveUsage.DefaultExpiresInSeconds,
    string? IdempotencyKey = null,
    Dictionary<string, string>? Properties = null) : IHasExample
{
    public static object Example => new { feature = "AI_MESSAGES", quantity = 4_000, expiresInSeconds = 120, idempotencyKey = "completion-77", properties = new { model = "large" } };
}

/// <summary>
/// Hold <paramref name="Quantity"/> of a counted feature for work whose cost is known only afterwards, if it fits the
/// effective limit beside what is used and held already; the hold ends by a commit, a release or its expiry.
/// </summary>
public sealed record ReserveUsage(
    string OrgId,
    string Feature,
    long Quantity,
    int ExpiresInSeconds,
    string? IdempotencyKey,
    string? IdempotencyKeyHeader,
    IReadOnlyDictionary<string, string>? Properties) : IForOrganisation
{
    public const int DefaultExpiresInSeconds = 300;
    public const int MaxExpiresInSeconds = 86_400;

    public string? Key => IdempotencyKey ?? IdempotencyKeyHeader;

    public sealed class Validator : AbstractValidator<ReserveUsage>
    {
        public Validator()
        {
            RuleFor(x => x.OrgId).MustBeOrgId();
            RuleFor(x => x.Feature).MustBeFeatureCode();
            RuleFor(x => x.Quantity).InclusiveBetween(1, ValidationRules.MaxQuantity)
                .WithMessage($"The quantity is a whole number from 1 to {ValidationRules.MaxQuantity:N0}.");
            RuleFor(x => x.ExpiresInSeconds).InclusiveBetween(1, MaxExpiresInSeconds)
                .WithMessage($"expiresInSeconds is a whole number from 1 to {MaxExpiresInSeconds:N0} (a day).");
            RuleFor(x => x.IdempotencyKey).MustBeIdempotencyKey().When(x => x.IdempotencyKey is not null);
            RuleFor(x => x.IdempotencyKeyHeader).MustBeIdempotencyKey().OverridePropertyName("Idempotency-Key")
                .When(x => x.IdempotencyKeyHeader is not null);
            RuleFor(x => x.IdempotencyKeyHeader).Equal(x => x.IdempotencyKey).OverridePropertyName("Idempotency-Key")
                .When(x => x.IdempotencyKey is not null && x.IdempotencyKeyHeader is not null)
                .WithMessage("The Idempotency-Key header and the body's idempotencyKey differ.");
            RuleFor(x => x.Properties).MustBeProperties();
        }
    }
}

/// <summary>A hold that fits: its events and documents, for the handler to write.</summary>
public sealed record ReserveDecision(Reservation Reservation, UsageReserved Reserved, ReservationKey? Key);

public static class ReserveUsageHandler
{
    /// <summary>
    /// Decided on the usage stream's locked, current counter — the lock every enforce-mode track of the same
    /// (organisation, feature, period) takes too — so that used + reserved never exceeds the limit through either.
    /// The expiry is a durable scheduled message written in the same transaction as the hold.
    /// </summary>
    public static async Task<(Outcome<ReserveUsageReply>, OutgoingMessages)> Handle(
        ReserveUsage command, IDocumentSession session, TimeProvider time, CancellationToken cancellation)
    {
        var (organisation, feature, catalog) = await session.LoadUsageTargetAsync(command.OrgId, command.Feature, cancellation);
        if (organisation is null)
            return (Refusal.OrganisationNotFound(command.OrgId), []);
        if (feature is null)
            return (Refusal.UnknownFeature(command.Feature), []);
        if (!feature.IsCounted)
            return (Refusal.Invalid("feature", $"{feature.Code} is a boolean feature: there is nothing to reserve."), []);

        var now = time.GetUtcNow();
        var period = Periods.For(feature, now, organisation.BillingAnchorDay);
        var streamKey = UsageCounter.KeyFor(organisation.Id, feature, period);

        await session.BeginTransactionAsync(cancellation);
        var batch = session.CreateBatchQuery();
        var locks = UsageLedger.LockStreams(batch, [streamKey]);
        var firstRead = command.Key is { } key ? batch.Load<ReservationKey>(ReservationKey.KeyFor(organisation.Id, key)) : Task.FromResult<ReservationKey?>(null);
        await batch.Execute(cancellation);
        var stream = (await UsageLedger.LockedAsync(locks))[streamKey];

        if (await firstRead is { } first)
            return (await RetriedAsync(command, first, session, cancellation), []);

        var decision = Decide(command, organisation, feature, catalog.LimitOf(organisation, feature, now), period, streamKey,
            stream.Aggregate?.Used ?? 0, stream.Aggregate?.Reserved ?? 0, now);
        if (decision.Refusal is { } refusal)
            return (refusal, []);

        var (reservation, reserved, reservationKey) = decision.Value!;
        stream.AppendOne(reserved);
        session.Store(reservation);
        if (reservationKey is not null)
            session.Insert(reservationKey);
        var expiry = new OutgoingMessages();
        expiry.Schedule(new ReservationExpiryDue(reservation.OrgId, reservation.Id), reservation.ExpiresAt);
        return (reservation.Reply, expiry);
    }

    /// <summary>A retry with the same key returns the reservation it made; the same key for another hold is a conflict.</summary>
    private static async Task<Outcome<ReserveUsageReply>> RetriedAsync(
        ReserveUsage command, ReservationKey first, IDocumentSession session, CancellationToken cancellation)
    {
        if (first.Feature != command.Feature || first.Quantity != command.Quantity)
            return Refusal.Conflict($"Idempotency key '{command.Key}' was first used to reserve {first.Quantity} of {first.Feature}; a retry must send the same feature and quantity.");
        var reservation = await session.LoadAsync<Reservation>(first.ReservationId, cancellation);
        return reservation!.Reply with { Duplicate = true };
    }

    /// <summary>The hold, or why it does not fit: <c>used + reserved + quantity &lt;= limit</c>, as for an enforce-mode track.</summary>
    public static Outcome<ReserveDecision> Decide(
        ReserveUsage command, Organisation organisation, UsageFeature feature, EffectiveLimit limit, Period? period, string streamKey,
        long used, long reserved, DateTimeOffset now)
    {
        var taken = UsageRules.Taken(used, reserved);
        if (UsageRules.RefusalReason(feature.Kind, limit.Limit, taken, command.Quantity) is { } reason)
        {
            return new LimitReached(
                organisation.Id, feature.Code, reason, command.Quantity, used, limit.Max, UsageRules.Remaining(limit.Limit, used, reserved),
                $"{feature.Code}: holding {command.Quantity} more would exceed {limit.Describe(organisation.Tier)}{UsageRules.HeldNote(reserved)}; nothing was reserved.")
            {
                Reserved = reserved,
            };
        }

        if (command.Quantity > long.MaxValue - taken)
            return Refusal.Conflict($"{feature.Code}: holding {command.Quantity} more would overflow its count of {taken}; nothing was reserved.");

        var id = Guid.CreateVersion7(now);
        var expiresAt = now.AddSeconds(command.ExpiresInSeconds);
        var reservedNow = reserved + command.Quantity;
        var reply = new ReserveUsageReply(
            id, organisation.Id, feature.Code, command.Quantity, expiresAt, used, reservedNow, limit.Max,
            UsageRules.Remaining(limit.Limit, used, reservedNow), period?.Start, period?.End, Duplicate: false);
        var reservation = new Reservation
        {
            Id = id,
            OrgId = organisation.Id,
            Feature = feature.Code,
            Quantity = command.Quantity,
            HoldStream = streamKey,
            PeriodStart = period?.Start,
            PeriodEnd = period?.End,
            CreatedAt = now,
            ExpiresAt = expiresAt,
            IdempotencyKey = command.Key,
            Properties = command.Properties,
            Status = ReservationStatus.Active,
            Reply = reply,
        };
        var reservedEvent = new UsageReserved(id, organisation.Id, feature.Code, command.Quantity, expiresAt, now, period?.Start, period?.End);
        var key = command.Key is { } k ? new ReservationKey(ReservationKey.KeyFor(organisation.Id, k), id, feature.Code, command.Quantity) : null;
        return new ReserveDecision(reservation, reservedEvent, key);
    }
}

public static class ReserveUsageEndpoint
{
    public static void MapReserveUsage(this IEndpointRouteBuilder api) =>
        api.MapPost("/usage/{orgId}/reservations", (string orgId, ReserveUsageBody body, HttpContext http) =>
                http.Send<ReserveUsage, ReserveUsageReply>(
                    new ReserveUsage(orgId, body.Feature ?? "", body.Quantity, body.ExpiresInSeconds, body.IdempotencyKey,
                        http.Request.Headers["Idempotency-Key"].FirstOrDefault(), body.Properties),
                    async (command, cancellation) =>
                    {
                        // Counted once the handler is through (after any retry), as the group commit counts enforce-mode refusals.
                        var outcome = await http.RequestServices.InvokeHandlerAsync<ReserveUsage, ReserveUsageReply>(command, cancellation);
                        if (outcome.Refusal is LimitReached refused)
                            UsageMetrics.EnforceRejected(refused);
                        return outcome;
                    },
                    reserved => TypedResults.Created((string?)null, reserved)))
            .ActsForOrganisationInRoute(Scopes.Write)
            .Produces<ReserveUsageReply>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status402PaymentRequired).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .WithName("ReserveUsage")
            .WithSummary("Hold a quantity of a feature before work whose cost is known afterwards (402 when it does not fit); commit or release it later.");
}
