// A follower's inbox run by Fedify: each POST's HTTP Signature is verified with
// verifyRequest() (which fetches the sender's key over HTTP, loopback allowed),
// then the body is parsed with Fedify's vocabulary (Activity.fromJsonLd) and
// what a timeline would show of its object is printed as one JSON line:
// {verified, type, object: {id, type, attachments: [{type, url, name, mediaType, width, height}]}}.
// Prints "LISTENING <port>" once ready; answers 202 when verified, 401 otherwise.
// Usage: node fedify-inbox.mjs
import http from "node:http";
import { Activity, getDocumentLoader, verifyRequest } from "@fedify/fedify";

const documentLoader = getDocumentLoader({ allowPrivateAddress: true });

async function describe(body) {
  const activity = await Activity.fromJsonLd(JSON.parse(body), {
    documentLoader,
    contextLoader: documentLoader,
  });
  const object = await activity.getObject({ documentLoader, contextLoader: documentLoader });
  const attachments = [];
  for await (const a of object?.getAttachments({ documentLoader, contextLoader: documentLoader }) ?? []) {
    const url = a.url;
    attachments.push({
      type: a.constructor.name,
      url: url == null ? null : (url.href instanceof URL ? url.href.href : url.href ?? String(url)),
      name: a.name == null ? null : String(a.name),
      mediaType: a.mediaType ?? null,
      width: a.width ?? null,
      height: a.height ?? null,
    });
  }
  return {
    type: activity.constructor.name,
    object: { id: object?.id?.href ?? null, type: object?.constructor?.name ?? null, attachments },
  };
}

const server = http.createServer(async (req, res) => {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const body = Buffer.concat(chunks);
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
  }
  const request = new Request(new URL(req.url, `http://${req.headers.host}`), {
    method: req.method,
    headers,
    body: req.method === "POST" ? body : undefined,
  });
  let key = null;
  let result;
  try {
    key = await verifyRequest(request, { documentLoader, contextLoader: documentLoader });
    result = { verified: key != null, ...(await describe(body.toString("utf-8"))) };
  } catch (e) {
    result = { verified: key != null, error: String(e) };
  }
  console.log(JSON.stringify(result));
  res.writeHead(result.verified && !result.error ? 202 : 401, { "content-type": "application/json" });
  res.end(JSON.stringify(result));
});

server.listen(0, "127.0.0.1", () => {
  console.log(`LISTENING ${server.address().port}`);
});
