// A Fedify peer in one long-lived process (Node starts slowly; the RSVP tests send many requests):
// * an inbox: each POST's HTTP Signature is checked with Fedify's verifyRequest(), which fetches
//   the signer's key from its keyId (loopback allowed); one line per request:
//   "RECEIVED {verified, keyId, owner, error, path, body}" (body parsed as JSON when it is);
//   answers 202 when verified, 401 otherwise;
// * a signer: each line on stdin is {id, url, keyId, pkcs8 (base64 DER), body} to sign with
//   signRequest() (draft-cavage) and POST; prints "SENT {id, status, body}".
// Prints "LISTENING <port>" once ready.
// Usage: node fedify-peer.mjs
import http from "node:http";
import readline from "node:readline";
import { getDocumentLoader, signRequest, verifyRequest } from "@fedify/fedify";

const documentLoader = getDocumentLoader({ allowPrivateAddress: true });

const server = http.createServer(async (req, res) => {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const raw = Buffer.concat(chunks);
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
  }
  const url = new URL(req.url, `http://${req.headers.host}`);
  const request = new Request(url, { method: req.method, headers, body: raw });
  let key = null;
  let error = null;
  try {
    key = await verifyRequest(request, { documentLoader, contextLoader: documentLoader });
  } catch (e) {
    error = String(e);
  }
  let body = raw.toString("utf8");
  try {
    body = JSON.parse(body);
  } catch {
    // kept as text
  }
  const result = {
    verified: key != null,
    keyId: key?.id?.href ?? null,
    owner: key?.ownerId?.href ?? null,
    error,
    path: url.pathname,
    body,
  };
  console.log(`RECEIVED ${JSON.stringify(result)}`);
  res.writeHead(key != null ? 202 : 401, { "content-type": "application/json" });
  res.end(JSON.stringify({ verified: result.verified, error }));
});

server.listen(0, "127.0.0.1", () => {
  console.log(`LISTENING ${server.address().port}`);
});

const lines = readline.createInterface({ input: process.stdin });
lines.on("line", async (line) => {
  const input = JSON.parse(line);
  let result;
  try {
    const privateKey = await crypto.subtle.importKey(
      "pkcs8",
      Buffer.from(input.pkcs8, "base64"),
      { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
      true,
      ["sign"],
    );
    const request = new Request(input.url, {
      method: "POST",
      headers: { "Content-Type": "application/activity+json" },
      body: input.body,
    });
    const signed = await signRequest(request, privateKey, new URL(input.keyId));
    const response = await fetch(signed);
    result = { id: input.id, status: response.status, body: await response.text() };
  } catch (e) {
    result = { id: input.id, status: 0, body: String(e) };
  }
  console.log(`SENT ${JSON.stringify(result)}`);
});
