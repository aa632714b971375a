// A Fedify peer that verifies HTTP Signatures: every request it receives is passed to Fedify's
// verifyRequest(), which fetches the signer's key from its keyId (loopback allowed).
// Prints "LISTENING <port>" once ready; answers each request with JSON
// {verified, keyId, owner, error} (200 when verified, 401 otherwise).
// Usage: node sig-verify-server.mjs
import http from "node:http";
import { getDocumentLoader, verifyRequest } from "@fedify/fedify";

const documentLoader = getDocumentLoader({ allowPrivateAddress: true });

const server = http.createServer(async (req, res) => {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
  }
  const url = new URL(req.url, `http://${req.headers.host}`);
  const hasBody = !["GET", "HEAD"].includes(req.method);
  const request = new Request(url, {
    method: req.method,
    headers,
    body: hasBody ? Buffer.concat(chunks) : undefined,
  });
  let key = null;
  let error = null;
  try {
    key = await verifyRequest(request, { documentLoader, contextLoader: documentLoader });
  } catch (e) {
    error = String(e);
  }
  const result = {
    verified: key != null,
    keyId: key?.id?.href ?? null,
    owner: key?.ownerId?.href ?? null,
    error,
  };
  res.writeHead(key != null ? 200 : 401, { "content-type": "application/json" });
  res.end(JSON.stringify(result));
});

server.listen(0, "127.0.0.1", () => {
  console.log(`LISTENING ${server.address().port}`);
});
