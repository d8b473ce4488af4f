import type { UsageSlicesClient } from "@usage-slices/client";

/** What the product's model answered, and how many model messages the answer took. */
export interface ModelReply {
  text: string;
  messagesUsed: number;
}

/** The product's language model: it answers a prompt in at most `maxMessages` messages. */
export type ChatModel = (prompt: string, maxMessages: number) => Promise<ModelReply>;

const maxMessagesPerTurn = 5;

/**
 * The chat service's turn: check that the organisation may send, hold what the turn can use, call the model,
 * commit what it really used. Its cost is known only afterwards: a turn takes one to five model messages.
 */
export async function answerChat(usage: UsageSlicesClient, model: ChatModel, orgId: string, prompt: string): Promise<string> {
  const organisation = usage.organisation(orgId);
  const check = await organisation.check("AI_MESSAGES");
  if (!check.allowed)
    return `Your organisation has used its ${check.limit} AI messages; they renew on ${check.resetsAt?.slice(0, 10)}.`;

  // Hold no more than is left, so that the hold fits; the service refuses (402) a hold another turn took first.
  const estimate = Math.min(maxMessagesPerTurn, check.remaining ?? maxMessagesPerTurn);
  return organisation.withReservation("AI_MESSAGES", estimate, async turn => {
    const reply = await model(prompt, estimate);
    // What the turn used counts; had the model thrown, withReservation would have released the hold.
    await turn.commit(reply.messagesUsed);
    return reply.text;
  });
}
