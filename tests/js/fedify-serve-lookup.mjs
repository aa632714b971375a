// Look up the community through `commsite serve` with Fedify, an independent
// ActivityPub implementation: WebFinger for the actor URL, the actor, its outbox's
// first page and one story object. Prints one JSON line.
//
//   node fedify-serve-lookup.mjs ACTOR_URL STORY_OBJECT_URL
import {
  Create,
  getDocumentLoader,
  isActor,
  lookupObject,
  lookupWebFinger,
} from "@fedify/fedify";

const [actorUrl, storyUrl] = process.argv.slice(2);
const documentLoader = getDocumentLoader({ allowPrivateAddress: true });
const options = { documentLoader, allowPrivateAddress: true };

const jrd = await lookupWebFinger(actorUrl, { allowPrivateAddress: true });
const actor = await lookupObject(actorUrl, options);
const story = await lookupObject(storyUrl, options);
let outboxItems = null;
if (isActor(actor)) {
  const outbox = await actor.getOutbox({ documentLoader });
  const first = outbox == null ? null : await outbox.getFirst({ documentLoader });
  outboxItems = [];
  if (first != null) {
    for await (const item of first.getItems({ documentLoader })) {
      outboxItems.push(item instanceof Create ? "Create" : item.constructor.name);
    }
  }
}
const key = isActor(actor) ? await actor.getPublicKey({ documentLoader }) : null;
process.stdout.write(
  `${JSON.stringify({
    webfinger: jrd == null ? null : {
      subject: jrd.subject ?? null,
      self: (jrd.links ?? []).filter((l) => l.rel === "self").map((l) => [l.type, l.href]),
    },
    actor: actor == null ? null : {
      type: actor.constructor.name,
      id: actor.id?.href ?? null,
      preferredUsername: actor.preferredUsername?.toString() ?? null,
      keyOwner: key?.ownerId?.href ?? null,
    },
    outboxItems,
    story: story == null ? null : { type: story.constructor.name, id: story.id?.href ?? null },
  })}\n`,
);
