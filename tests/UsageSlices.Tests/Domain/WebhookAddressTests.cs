using System.Net;
using Shouldly;
using UsageSlices.Domain.Webhooks;

namespace UsageSlices.Tests.Domain;

/// <summary>The SSRF rule and the retry schedule's notation, as pure functions.</summary>
public sealed class WebhookAddressTests
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.255.0.9")]
    [InlineData("10.0.0.1")]
    [InlineData("172.16.0.1")]
    [InlineData("172.31.255.255")]
    [InlineData("192.168.0.1")]
    [InlineData("169.254.169.254")]
    [InlineData("100.64.0.1")]
    [InlineData("0.0.0.0")]
    [InlineData("224.0.0.1")]
    [InlineData("::1")]
    [InlineData("fe80::1")]
    [InlineData("fd00:ec2::254")]
    [InlineData("::ffff:10.0.0.1")]
    [InlineData("::")]
    public void private_and_special_addresses_are_private(string address) =>
        WebhookAddresses.IsPrivate(IPAddress.Parse(address)).ShouldBeTrue();

    [Theory]
    [InlineData("93.184.215.14")]
    [InlineData("172.32.0.1")]
    [InlineData("100.128.0.1")]
    [InlineData("8.8.8.8")]
    [InlineData("2606:4700:4700::1111")]
    public void public_addresses_are_not(string address) =>
        WebhookAddresses.IsPrivate(IPAddress.Parse(address)).ShouldBeFalse();

    [Fact]
    public void the_retry_schedule_is_written_as_the_design_writes_it() =>
        WebhookSettings.ParseSchedule("5s,5m,30m,2h,5h,10h,10h").ShouldBe(WebhookSettings.DefaultRetrySchedule);

    [Theory]
    [InlineData("5")]
    [InlineData("5x")]
    [InlineData("-5s")]
    public void a_wait_it_cannot_read_fails_start_up(string schedule) =>
        Should.Throw<FormatException>(() => WebhookSettings.ParseSchedule(schedule));

    /// <summary>The example of the Standard Webhooks 1.0 specification (its test vector).</summary>
    [Fact]
    public void the_signature_matches_the_specification_s_example() =>
        WebhookSignature.Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, """{"test": 2432232314}""")
            .ShouldBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}
