using Microsoft.AspNetCore.Mvc;
using UsageSlices.Domain;

namespace UsageSlices.Infrastructure;

/// <summary>The HTTP edge's reading of a refusal: its status, title and, for a limit, the numbers it was decided on.</summary>
public static class Problems
{
    public static int StatusOf(RefusalKind kind) => kind switch
    {
        RefusalKind.Invalid => StatusCodes.Status400BadRequest,
        RefusalKind.NotFound => StatusCodes.Status404NotFound,
        RefusalKind.Forbidden => StatusCodes.Status403Forbidden,
        RefusalKind.Conflict => StatusCodes.Status409Conflict,
        RefusalKind.LimitReached => StatusCodes.Status402PaymentRequired,
        RefusalKind.Unavailable => StatusCodes.Status503ServiceUnavailable,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "A refusal kind without a status."),
    };

    public static ProblemDetails ToProblem(this Refusal refusal)
    {
        var problem = refusal.Errors is { } errors
            ? new HttpValidationProblemDetails(errors.ToDictionary()) { Title = "One or more validation errors occurred." }
            : new ProblemDetails { Title = TitleOf(refusal.Kind) };
        problem.Status = StatusOf(refusal.Kind);
        problem.Detail = refusal.Detail;
        if (refusal is LimitReached limit)
        {
            problem.Extensions["orgId"] = limit.OrgId;
            problem.Extensions["feature"] = limit.Feature;
            problem.Extensions["reason"] = limit.Reason;
            problem.Extensions["requested"] = limit.Requested;
            problem.Extensions["used"] = limit.Used;
            problem.Extensions["reserved"] = limit.Reserved;
            problem.Extensions["limit"] = limit.Limit;
            problem.Extensions["remaining"] = limit.Remaining;
        }

        return problem;
    }

    private static string TitleOf(RefusalKind kind) => kind switch
    {
        RefusalKind.NotFound => "Not found",
        RefusalKind.Forbidden => "Forbidden",
        RefusalKind.Conflict => "Conflict",
        RefusalKind.LimitReached => "Usage limit reached",
        RefusalKind.Unavailable => "Service unavailable",
        _ => "Bad request",
    };
}
