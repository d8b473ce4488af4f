using Microsoft.AspNetCore.Mvc;

namespace UsageSlices.Infrastructure;

/// <summary>The refusals handlers return, so that each kind of problem reads the same wherever it comes from.</summary>
public static class Problems
{
    public static ProblemDetails NotFound(string detail) =>
        new() { Status = StatusCodes.Status404NotFound, Title = "Not found", Detail = detail };

    public static ProblemDetails Conflict(string detail) =>
        new() { Status = StatusCodes.Status409Conflict, Title = "Conflict", Detail = detail };

    public static ProblemDetails Forbidden(string detail) =>
        new() { Status = StatusCodes.Status403Forbidden, Title = "Forbidden", Detail = detail };

    public static ProblemDetails Unavailable(string detail) =>
        new() { Status = StatusCodes.Status503ServiceUnavailable, Title = "Service unavailable", Detail = detail };

    /// <summary>Shape errors of a request that is judged part by part (an event of a batch): 400 with <c>errors</c>.</summary>
    public static ProblemDetails Invalid(IDictionary<string, string[]> errors) =>
        new HttpValidationProblemDetails(errors)
        {
            Status = StatusCodes.Status400BadRequest,
            Title = "One or more validation errors occurred.",
            Detail = errors.First().Value.First(),
        };

    /// <summary>A request that is well formed but names something that does not exist (a feature or tier code): 400 with <c>errors</c>.</summary>
    public static ProblemDetails Invalid(string field, string message) =>
        Invalid(new Dictionary<string, string[]> { [field] = [message] });

    public static ProblemDetails PaymentRequired(string detail, IDictionary<string, object?> numbers)
    {
        var problem = new ProblemDetails
        {
            Status = StatusCodes.Status402PaymentRequired,
            Title = "Usage limit reached",
            Detail = detail,
        };
        foreach (var (key, value) in numbers)
            problem.Extensions[key] = value;
        return problem;
    }
}
