using System.Net.Http.Headers;
using System.Text;
using Shouldly;
using UsageSlices.Tests.Support;

namespace UsageSlices.Tests.Reliability;

/// <summary>One tenant's uploads, however slow or many, never hold the batch slots another tenant's batch needs.</summary>
public sealed class when_one_organisation_floods_the_batch_route(AppFixture app) : ApiTest(app)
{
    private const string OneEvent = """{"events":[{"orgId":"globex","feature":"AI_MESSAGES","quantity":1,"idempotencyKey":"b-1"}]}""";

    /// <summary>A body that sends its first bytes (or none) and then nothing more until the test lets it finish.</summary>
    private sealed class DribblingBody(string start, TaskCompletionSource release, TaskCompletionSource started) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            await stream.WriteAsync(Encoding.UTF8.GetBytes(start));
            await stream.FlushAsync();
            started.TrySetResult();
            await release.Task;
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    [Fact]
    public async Task slow_and_idle_uploads_of_one_organisation_leave_another_organisations_batch_its_slot()
    {
        await RegisterAsync("acme");
        await RegisterAsync("globex");
        var release = new TaskCompletionSource();
        using var attacker = Host.Server.CreateClient();
        attacker.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TokenFor("acme"));
        var uploads = new List<Task<HttpResponseMessage>>();
        var started = new List<Task>();
        try
        {
            // More slow and idle uploads than there are slots in the whole instance (2 running in all, 1 running per organisation).
            foreach (var start in Enumerable.Range(0, 8).Select(i => i % 2 == 0 ? """{"events":[{"orgId":"acme",""" : ""))
            {
                var sent = new TaskCompletionSource();
                started.Add(sent.Task);
                var body = new DribblingBody(start, release, sent);
                body.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                uploads.Add(attacker.PostAsync("/api/v1/usage/events:batch", body, Cancel));
            }

            await Task.WhenAll(started).WaitAsync(TimeSpan.FromSeconds(20), Cancel);

            var batch = Host.Scenario(x =>
            {
                x.Post.Text(OneEvent).ToUrl("/api/v1/usage/events:batch");
                x.WithRequestHeader("Content-Type", "application/json");
                x.WithBearerToken(TokenFor("globex"));
            });
            // A batch of one event is recorded in milliseconds; 10 s stands for "not stuck behind the uploads".
            var result = await batch.WaitAsync(TimeSpan.FromSeconds(10), Cancel);

            result.Context.Response.StatusCode.ShouldBe(200);
            ((int)(await BodyOf(result))["recorded"]!).ShouldBe(1);
            (await UsedAsync("globex", "AI_MESSAGES")).ShouldBe(1);
        }
        finally
        {
            // Let the uploads end (however the service answers them) so that the host is left as it was found.
            release.TrySetResult();
            await Task.WhenAll(uploads.Select(upload => upload.ContinueWith(_ => { }, TaskScheduler.Default)));
        }
    }

    [Fact]
    public async Task one_organisations_many_batches_wait_in_its_own_queue_and_another_organisations_batch_is_recorded()
    {
        await RegisterAsync("acme");
        await RegisterAsync("globex");

        var flood = Enumerable.Range(0, 12).Select(i => Host.Scenario(x =>
        {
            x.Post.Json(new { events = Enumerable.Range(0, 200).Select(e => new { orgId = "acme", feature = "AI_MESSAGES", quantity = 1, idempotencyKey = $"a-{i}-{e}" }) })
                .ToUrl("/api/v1/usage/events:batch");
            x.WithBearerToken(TokenFor("acme"));
            x.IgnoreStatusCode();
        })).ToList();
        var batch = await Host.Scenario(x =>
        {
            x.Post.Text(OneEvent).ToUrl("/api/v1/usage/events:batch");
            x.WithRequestHeader("Content-Type", "application/json");
            x.WithBearerToken(TokenFor("globex"));
        });
        var statuses = (await Task.WhenAll(flood)).Select(r => r.Context.Response.StatusCode).ToList();

        ((int)(await BodyOf(batch))["recorded"]!).ShouldBe(1);
        statuses.ShouldAllBe(status => status == 200 || status == 429);
        (await UsedAsync("acme", "AI_MESSAGES")).ShouldBe(200 * statuses.Count(status => status == 200));
    }
}
