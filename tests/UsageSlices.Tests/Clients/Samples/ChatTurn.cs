using UsageSlices.Client;

namespace UsageSlices.Tests.Clients.Samples;

/// <summary>What the product's model answered, and how many model messages the answer took.</summary>
public sealed record ModelReply(string Text, int MessagesUsed);

/// <summary>The product's language model: it answers a prompt in at most <c>maxMessages</c> messages.</summary>
public interface IChatModel
{
    Task<ModelReply> CompleteAsync(string prompt, int maxMessages, CancellationToken cancellation);
}

/// <summary>
/// The chat service's turn: check that the organisation may send, hold what the turn can use, call the model,
/// commit what it really used. Its cost is known only afterwards: a turn takes one to five model messages.
/// </summary>
public sealed class ChatTurn(UsageSlicesClient usage, IChatModel model)
{
    private const int MaxMessagesPerTurn = 5;

    public async Task<string> AnswerAsync(string orgId, string prompt, CancellationToken cancellation)
    {
        var check = await usage.CheckAsync(orgId, "AI_MESSAGES", 1, cancellation);
        if (!check.Allowed)
            return $"Your organisation has used its {check.Limit} AI messages; they renew on {check.ResetsAt:d MMMM}.";

        // Hold no more than is left, so that the hold fits; the service refuses (402) a hold another turn took first.
        var estimate = (int)Math.Min(MaxMessagesPerTurn, check.Remaining ?? MaxMessagesPerTurn);
        await using var turn = await usage.ReserveAsync(orgId, "AI_MESSAGES", estimate, cancellation: cancellation);

        var reply = await model.CompleteAsync(prompt, estimate, cancellation);

        // What the turn used counts; had the model thrown, leaving the block would have released the hold.
        await turn.CommitAsync(reply.MessagesUsed, cancellation);
        return reply.Text;
    }
}
