// The benchmark's ceiling for HTTP: the same host builder and Kestrel as the service, one route returning a
// constant JSON body, no database. The service's check rate is reported as a ratio of this one.
var builder = WebApplication.CreateBuilder(args);
builder.Logging.ClearProviders();
var app = builder.Build();
app.MapGet("/ping", () => TypedResults.Ok(new { allowed = true, used = 0, limit = 50 }));
app.Run();
