using System.Text.Json;
using FluentValidation;
using UsageSlices.Domain;
using Wolverine;

namespace UsageSlices.Infrastructure;

/// <summary>
/// The one path from every entry point (an endpoint, a command line, a batch event) to a handler: whether the
/// caller may act for the organisation, then the shape (the request's nested FluentValidation validator), then
/// the handler. Only the HTTP edge (<see cref="Send{TRequest,TReply}(HttpContext,TRequest)"/>) turns a refusal
/// into problem+json.
/// </summary>
public static class Dispatch
{
    /// <summary>Validation <c>errors</c> are keyed in camelCase, as the JSON they describe (<c>quantity</c>, <c>limits.AI_MESSAGES</c>).</summary>
    public static void UseCamelCaseValidationKeys() =>
        ValidatorOptions.Global.PropertyNameResolver = (_, member, expression) =>
        {
            var chain = expression is null ? null : FluentValidation.Internal.PropertyChain.FromExpression(expression).ToString();
            var name = string.IsNullOrEmpty(chain) ? member?.Name : chain;
            return name is null ? null : string.Join('.', name.Split('.').Select(JsonNamingPolicy.CamelCase.ConvertName));
        };

    public static async Task<Outcome<TReply>> InvokeAsync<TRequest, TReply>(
        this IServiceProvider services, TRequest request, Func<TRequest, CancellationToken, Task<Outcome<TReply>>> handle, CancellationToken cancellation)
        where TRequest : notnull
        where TReply : notnull
    {
        if (request is IActForOrganisation act && !act.Caller.MayActFor(act.OrgId))
            return Refusal.Forbidden($"The token may not act for organisation '{act.OrgId}'.");
        if (services.GetService<IValidator<TRequest>>() is { } validator && await validator.RefuseAsync(request, cancellation) is { } invalid)
            return invalid;
        return await handle(request, cancellation);
    }

    /// <summary>The path to the request's Wolverine handler, with its transaction and retry policies.</summary>
    public static Task<Outcome<TReply>> InvokeAsync<TRequest, TReply>(this IServiceProvider services, TRequest request, CancellationToken cancellation)
        where TRequest : notnull
        where TReply : notnull =>
        services.InvokeAsync(request, services.InvokeHandlerAsync<TRequest, TReply>, cancellation);

    /// <summary>
    /// The request's Wolverine handler, in the shard of the organisation it is about (<see cref="Placements"/>), without
    /// the checks of the caller and the shape: for the paths that have made them already.
    /// </summary>
    public static Task<Outcome<TReply>> InvokeHandlerAsync<TRequest, TReply>(this IServiceProvider services, TRequest request, CancellationToken cancellation)
        where TRequest : notnull
        where TReply : notnull =>
        services.GetRequiredService<Placements>().InvokeAsync<Outcome<TReply>>(services.GetRequiredService<IMessageBus>(), request, cancellation);

    /// <summary>The shape check alone, for a request judged part by part (the events of a batch).</summary>
    public static async Task<Refusal?> RefuseAsync<T>(this IValidator<T> validator, T request, CancellationToken cancellation)
    {
        var validation = await validator.ValidateAsync(request, cancellation);
        return validation.IsValid ? null : Refusal.Invalid(validation.ToDictionary().AsReadOnly());
    }

    public static Task<IResult> Send<TRequest, TReply>(this HttpContext http, TRequest request)
        where TRequest : notnull
        where TReply : notnull =>
        http.Send<TRequest, TReply>(request, reply => TypedResults.Ok(reply));

    public static Task<IResult> Send<TRequest, TReply>(this HttpContext http, TRequest request, Func<TReply, IResult> success)
        where TRequest : notnull
        where TReply : notnull =>
        http.Send(request, http.RequestServices.InvokeHandlerAsync<TRequest, TReply>, success);

    /// <summary>The path with a handler other than the bus (the group commit), answered as HTTP.</summary>
    public static async Task<IResult> Send<TRequest, TReply>(
        this HttpContext http, TRequest request, Func<TRequest, CancellationToken, Task<Outcome<TReply>>> handle, Func<TReply, IResult> success)
        where TRequest : notnull
        where TReply : notnull
    {
        var outcome = await http.RequestServices.InvokeAsync(request, handle, http.RequestAborted);
        return outcome.Refusal is { } refusal ? TypedResults.Problem(refusal.ToProblem()) : success(outcome.Value!);
    }
}
