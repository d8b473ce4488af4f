using Microsoft.Extensions.FileProviders;

namespace UsageSlices.Infrastructure;

/// <summary>
/// The browser dashboard at <c>/admin/</c>: static files embedded from the project's <c>Dashboard/</c> folder that call
/// the service's own API with the signed-in admin token. Nothing is loaded from elsewhere, which the content security
/// policy enforces.
/// </summary>
public static class Dashboard
{
    public const string Path = "/admin";

    /// <summary>Only this service's scripts, styles and API; no inline code, no frames, no form posts elsewhere.</summary>
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

    public static WebApplication UseDashboard(this WebApplication app)
    {
        app.Use((http, next) =>
        {
            if (http.Request.Path.StartsWithSegments(Path))
            {
                var headers = http.Response.Headers;
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                headers["Referrer-Policy"] = "no-referrer";
                // Revalidated on every load (the ETag makes that cheap), so a new version is seen at once.
                headers.CacheControl = "no-cache";
            }
            return next(http);
        });
        var files = new ManifestEmbeddedFileProvider(typeof(Dashboard).Assembly, "Dashboard");
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files, RequestPath = Path });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = files, RequestPath = Path });
        return app;
    }
}
