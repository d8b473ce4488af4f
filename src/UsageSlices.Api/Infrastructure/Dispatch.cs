using FluentValidation;
using Wolverine;

namespace UsageSlices.Infrastructure;

/// <summary>The one path from an endpoint to its Wolverine handler: validate the shape, invoke, turn the outcome into HTTP.</summary>
public static class Dispatch
{
    public static Task<IResult> Send<TRequest, TResponse>(this HttpContext http, TRequest request)
        where TRequest : notnull
        where TResponse : notnull =>
        http.Send<TRequest, TResponse>(request, response => TypedResults.Ok(response));

    public static async Task<IResult> Send<TRequest, TResponse>(this HttpContext http, TRequest request, Func<TResponse, IResult> success)
        where TRequest : notnull
        where TResponse : notnull
    {
        if (http.RequestServices.GetService<IValidator<TRequest>>() is { } validator)
        {
            var validation = await validator.ValidateAsync(request, http.RequestAborted);
            if (!validation.IsValid)
                return TypedResults.ValidationProblem(validation.ToDictionary(), detail: validation.Errors[0].ErrorMessage);
        }

        var bus = http.RequestServices.GetRequiredService<IMessageBus>();
        var outcome = await bus.InvokeAsync<Outcome<TResponse>>(request, http.RequestAborted);
        return outcome.Problem is { } problem ? TypedResults.Problem(problem) : success(outcome.Value!);
    }
}
