using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace UsageSlices.Client;

/// <summary>Guards a product's own routes with a check: the route runs only while its organisation may use the feature.</summary>
public static class FeatureEndpointFilter
{
    /// <summary>
    /// Refuses the route unless the request's organisation (<see cref="UsageSlicesClientOptions.OrganisationOf"/>) may use
    /// <paramref name="quantity"/> of <paramref name="feature"/> now: 402 with the check's numbers when the limit says
    /// no, 503 when the service cannot be reached and the feature fails closed, 403 when the request names no
    /// organisation. Each is an RFC 9457 problem. The check that let a request through is in
    /// <c>HttpContext.Features.Get&lt;CheckResult&gt;()</c>. It only checks; the route records what it used.
    /// </summary>
    public static TBuilder RequireFeature<TBuilder>(this TBuilder builder, string feature, long quantity = 1)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var options = http.RequestServices.GetRequiredService<IOptions<UsageSlicesClientOptions>>().Value;
            var orgId = (options.OrganisationOf ?? throw new InvalidOperationException(
                "UsageSlices: RequireFeature needs options.OrganisationOf, to know which organisation a request acts for."))(http);
            if (string.IsNullOrEmpty(orgId))
                return Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "No organisation",
                    detail: $"The request acts for no organisation, so it may not use {feature}.");

            var check = await http.RequestServices.GetRequiredService<UsageSlicesClient>().CheckAsync(orgId, feature, quantity, http.RequestAborted);
            if (check.Allowed)
            {
                http.Features.Set(check);
                return await next(context);
            }

            return check.ServiceUnreachable
                ? Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Usage cannot be checked",
                    detail: $"UsageSlices cannot be reached and {feature} fails closed.",
                    extensions: new Dictionary<string, object?> { ["reason"] = check.Reason, ["feature"] = feature })
                : Results.Problem(statusCode: StatusCodes.Status402PaymentRequired, title: "Usage limit reached",
                    detail: $"Organisation '{orgId}' may not use {quantity} more of {feature} now.",
                    extensions: new Dictionary<string, object?>
                    {
                        ["reason"] = check.Reason,
                        ["feature"] = feature,
                        ["requested"] = check.Requested,
                        ["used"] = check.Used,
                        ["reserved"] = check.Reserved,
                        ["limit"] = check.Limit,
                        ["remaining"] = check.Remaining,
                        ["resetsAt"] = check.ResetsAt,
                    });
        });
}
