using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace UsageSlices.Infrastructure;

/// <summary>
/// Every error leaves as RFC 9457 problem+json with type, title, status, detail and traceId: refusals from handlers,
/// binding failures, authentication and authorisation failures, unknown routes, and exceptions (never a stack trace).
/// </summary>
public static class ProblemHandling
{
    public static IServiceCollection AddUsageProblemDetails(this IServiceCollection services)
    {
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            var problem = context.ProblemDetails;
            var status = problem.Status ?? context.HttpContext.Response.StatusCode;
            problem.Status = status;
            problem.Type ??= $"https://httpwg.org/specs/rfc9110.html#status.{status}";
            problem.Title ??= ReasonPhrase(status);
            problem.Detail ??= DefaultDetail(status, problem.Title);
            problem.Extensions["traceId"] = Activity.Current?.Id ?? context.HttpContext.TraceIdentifier;
        });
        services.AddExceptionHandler<ExceptionToProblem>();
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, ForbiddenAsProblem>();
        // Binding failures throw, so that the exception handler can say what was wrong with the body.
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        return services;
    }

    private static string ReasonPhrase(int status) =>
        Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase ? phrase : "Error";

    private static string DefaultDetail(int status, string title) => status switch
    {
        StatusCodes.Status401Unauthorized => "A valid bearer token is required.",
        StatusCodes.Status403Forbidden => "The token does not allow this request.",
        StatusCodes.Status404NotFound => "There is nothing at this address.",
        StatusCodes.Status405MethodNotAllowed => "This address does not accept that method.",
        _ => title,
    };

    /// <summary>
    /// What was wrong with a JSON body, in the request's own terms: the serializer's messages name .NET types and
    /// namespaces ("could not be mapped to any .NET member contained in type 'UsageSlices…'"), which are nobody's business.
    /// </summary>
    private static string DescribeJson(JsonException json)
    {
        var at = json.Path is { Length: > 0 } path ? path : "$";
        return json.Message switch
        {
            var m when m.Contains("could not be mapped", StringComparison.Ordinal) => $"The property {at} is not part of this request.",
            var m when m.Contains("could not be converted", StringComparison.Ordinal) => $"The value at {at} has the wrong type or is out of range.",
            var m when m.Contains("uplicate", StringComparison.Ordinal) => $"A property appears more than once in the object at {at}.",
            var m when m.Contains("maximum configured depth", StringComparison.Ordinal) => $"The body nests deeper than {RequestLimits.MaxJsonDepth} levels.",
            var m when m.Contains(".NET", StringComparison.Ordinal) || m.Contains("System.", StringComparison.Ordinal) || m.Contains("UsageSlices", StringComparison.Ordinal)
                => $"The body is not valid for this request at {at}.",
            var m => $"The body is not valid JSON for this request: {m.Split(" Path:")[0].TrimEnd('.')} (at {at}).",
        };
    }

    /// <summary>A route or query value that could not be read, named without its .NET type ("long quantity" → 'quantity').</summary>
    private static string DescribeBinding(BadHttpRequestException bad) =>
        System.Text.RegularExpressions.Regex.Replace(bad.Message, "\"[^\"]*?(\\w+)\"", "'$1'");

    /// <summary>The database is down, unreachable or out of connections: the client should retry, not report a bug.</summary>
    public static bool IsDatabaseUnavailable(Exception exception)
    {
        for (var cause = exception; cause is not null; cause = cause.InnerException)
        {
            if (cause is NpgsqlException { IsTransient: true } or TimeoutException or System.Net.Sockets.SocketException)
                return true;
        }

        return false;
    }

    private sealed class ExceptionToProblem(IProblemDetailsService problems, ILogger<ExceptionToProblem> logger) : IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken cancellation)
        {
            var problem = exception switch
            {
                BadHttpRequestException bad => new ProblemDetails
                {
                    Status = bad.StatusCode,
                    Title = "The request could not be read.",
                    Detail = bad.InnerException is JsonException json ? DescribeJson(json) : DescribeBinding(bad),
                },
                PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } => new ProblemDetails
                {
                    Status = StatusCodes.Status409Conflict,
                    Title = "Conflict",
                    Detail = "The request conflicts with data written at the same time; retry it.",
                },
                ShardUnavailableException shard when !http.RequestAborted.IsCancellationRequested => new ProblemDetails
                {
                    Status = StatusCodes.Status503ServiceUnavailable,
                    Title = "Service unavailable",
                    Detail = shard.Message,
                },
                _ when IsDatabaseUnavailable(exception) && !http.RequestAborted.IsCancellationRequested => new ProblemDetails
                {
                    Status = StatusCodes.Status503ServiceUnavailable,
                    Title = "Service unavailable",
                    Detail = "The database cannot be reached; retry shortly.",
                },
                _ => null,
            };
            if (problem is null)
            {
                logger.LogError(exception, "Unhandled exception on {Method} {Path}", http.Request.Method, http.Request.Path);
                problem = new ProblemDetails
                {
                    Status = StatusCodes.Status500InternalServerError,
                    Title = "Internal server error",
                    Detail = "An unexpected error occurred; it has been logged with this traceId.",
                };
            }

            http.Response.StatusCode = problem.Status!.Value;
            return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = problem, Exception = exception });
        }
    }

    /// <summary>Says which rule refused a token (missing scope, another organisation) instead of a bare 403.</summary>
    private sealed class ForbiddenAsProblem(IProblemDetailsService problems) : IAuthorizationMiddlewareResultHandler
    {
        private readonly AuthorizationMiddlewareResultHandler fallback = new();

        public async Task HandleAsync(RequestDelegate next, HttpContext http, AuthorizationPolicy policy, PolicyAuthorizationResult result)
        {
            if (!result.Forbidden || result.AuthorizationFailure is null)
            {
                await fallback.HandleAsync(next, http, policy, result);
                return;
            }

            http.Response.StatusCode = StatusCodes.Status403Forbidden;
            var reasons = result.AuthorizationFailure.FailureReasons.Select(reason => reason.Message).ToList();
            await problems.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = http,
                ProblemDetails = new ProblemDetails
                {
                    Status = StatusCodes.Status403Forbidden,
                    Title = "Forbidden",
                    Detail = reasons.Count > 0 ? string.Join(' ', reasons) : null,
                },
            });
        }
    }
}
