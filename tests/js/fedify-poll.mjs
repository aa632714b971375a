// Look up an event's RSVP poll and the event with Fedify, an independent
// ActivityPub implementation, and print what Fedify understood as one JSON line.
//
//   node fedify-poll.mjs POLL_URL EVENT_URL
//
// Run by tests/test_fedify_lookup.py against a TLS static server on localhost
// (NODE_EXTRA_CA_CERTS=<its certificate>).
import { Event, Question, getDocumentLoader, lookupObject } from "@fedify/fedify";

const [pollUrl, eventUrl] = process.argv.slice(2);
const documentLoader = getDocumentLoader({ allowPrivateAddress: true });
const options = { documentLoader, allowPrivateAddress: true };
const typeName = (obj) => (obj == null ? null : obj.constructor.name);

const poll = await lookupObject(pollUrl, options);
const event = await lookupObject(eventUrl, options);
const result = { poll: { type: typeName(poll) }, event: { type: typeName(event) } };
if (poll instanceof Question) {
  const choices = [];
  for await (const option of poll.getExclusiveOptions({ documentLoader })) {
    const replies = await option.getReplies({ documentLoader });
    choices.push({ name: option.name?.toString() ?? null, votes: replies?.totalItems ?? null });
  }
  Object.assign(result.poll, {
    id: poll.id?.href ?? null,
    choices,
    endTime: poll.endTime?.toString() ?? null,
    closed: poll.closed == null ? null : String(poll.closed),
    voters: poll.voters ?? null,
    replyTarget: poll.replyTargetId?.href ?? null,
    attributedTo: poll.attributionId?.href ?? null,
    content: poll.content?.toString() ?? null,
  });
}
if (event instanceof Event) {
  Object.assign(result.event, {
    name: event.name?.toString() ?? null,
    startTime: event.startTime?.toString() ?? null,
  });
}
process.stdout.write(`${JSON.stringify(result)}\n`);
