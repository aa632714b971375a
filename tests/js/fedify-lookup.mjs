// Look up a commsite actor, its outbox and one story with Fedify, an independent
// ActivityPub implementation, and print what Fedify understood as one JSON line.
//
//   node fedify-lookup.mjs ACTOR_URL @HANDLE@HOST:PORT STORY_OBJECT_URL
//
// Run by tests/test_fedify_lookup.py against a TLS server on localhost; node needs
// NODE_EXTRA_CA_CERTS=<the server's certificate>. Fedify logs why a lookup failed
// (at debug level) to stderr, so a null below comes with its reason.
import { configure } from "@logtape/logtape";
import {
  Article,
  Create,
  Event,
  Hashtag,
  Note,
  getDocumentLoader,
  isActor,
  lookupObject,
} from "@fedify/fedify";

const [actorUrl, handle, storyUrl] = process.argv.slice(2);

await configure({
  sinks: {
    stderr: (record) =>
      process.stderr.write(
        `${record.level} ${record.category.join(".")}: ${record.message.map(String).join("")}\n`,
      ),
  },
  loggers: [
    { category: "fedify", lowestLevel: "debug", sinks: ["stderr"] },
    { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
  ],
});

const documentLoader = getDocumentLoader({ allowPrivateAddress: true });
const options = { documentLoader, allowPrivateAddress: true };
const typeName = (obj) => (obj == null ? null : obj.constructor.name);

async function describeActor(actor) {
  if (actor == null || !isActor(actor)) return { type: typeName(actor) };
  const key = await actor.getPublicKey({ documentLoader });
  return {
    type: typeName(actor),
    id: actor.id?.href ?? null,
    preferredUsername: actor.preferredUsername?.toString() ?? null,
    name: actor.name?.toString() ?? null,
    inbox: actor.inboxId?.href ?? null,
    sharedInbox: actor.endpoints?.sharedInbox?.href ?? null,
    outbox: actor.outboxId?.href ?? null,
    followers: actor.followersId?.href ?? null,
    url: actor.url?.href ?? null,
    discoverable: actor.discoverable ?? null,
    manuallyApprovesFollowers: actor.manuallyApprovesFollowers ?? null,
    publicKey: key == null ? null : {
      id: key.id?.href ?? null,
      owner: key.ownerId?.href ?? null,
      algorithm: key.publicKey?.algorithm?.name ?? null,
    },
  };
}

async function describeObject(obj) {
  if (obj == null) return null;
  const tags = [];
  for await (const tag of obj.getTags({ documentLoader })) {
    tags.push({ type: typeName(tag), name: tag.name?.toString() ?? null, href: tag.href?.href ?? null });
  }
  const described = {
    type: typeName(obj),
    id: obj.id?.href ?? null,
    url: obj.url?.href ?? null,
    attributedTo: obj.attributionId?.href ?? null,
    content: obj.content?.toString() ?? null,
    name: obj.name?.toString() ?? null,
    summary: obj.summary?.toString() ?? null,
    published: obj.published?.toString() ?? null,
    to: obj.toIds.map((u) => u.href),
    cc: obj.ccIds.map((u) => u.href),
    tags,
  };
  if (obj instanceof Event) {
    described.startTime = obj.startTime?.toString() ?? null;
    described.endTime = obj.endTime?.toString() ?? null;
  }
  return described;
}

async function describeOutbox(actor) {
  const outbox = await actor.getOutbox({ documentLoader });
  if (outbox == null) return null;
  const first = await outbox.getFirst({ documentLoader });
  const items = [];
  if (first != null) {
    for await (const item of first.getItems({ documentLoader })) {
      const entry = { type: typeName(item), id: item.id?.href ?? null };
      if (item instanceof Create) {
        entry.actor = item.actorId?.href ?? null;
        entry.object = await describeObject(await item.getObject({ documentLoader }));
      }
      items.push(entry);
    }
  }
  return {
    type: typeName(outbox),
    totalItems: outbox.totalItems ?? null,
    first: first == null ? null : { type: typeName(first), id: first.id?.href ?? null },
    items,
  };
}

const byUrl = await lookupObject(actorUrl, options);
const byHandle = await lookupObject(handle, options);
const story = await lookupObject(storyUrl, options);
const result = {
  actor: await describeActor(byUrl),
  handle: await describeActor(byHandle),
  outbox: isActor(byUrl) ? await describeOutbox(byUrl) : null,
  story: await describeObject(story),
  storyIsNoteOrArticle: story instanceof Note || story instanceof Article,
  hashtagClass: typeName(new Hashtag({})),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
