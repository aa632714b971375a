// A Fedify peer that signs a request with signRequest() (draft-cavage, rsa-sha256) and sends it.
// Reads JSON from stdin: {method, url, keyId, pkcs8 (base64 DER private key), body?, contentType?}
// Prints JSON: {status, body, signed: {header: value}}.
// Usage: echo '{...}' | node sig-sign.mjs
import { signRequest } from "@fedify/fedify";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const privateKey = await crypto.subtle.importKey(
  "pkcs8",
  Buffer.from(input.pkcs8, "base64"),
  { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
  true,
  ["sign"],
);
const headers = { Accept: "application/activity+json" };
if (input.contentType) headers["Content-Type"] = input.contentType;
const request = new Request(input.url, {
  method: input.method,
  headers,
  body: input.body ?? undefined,
});
const signed = await signRequest(request, privateKey, new URL(input.keyId));
const response = await fetch(signed);
console.log(JSON.stringify({
  status: response.status,
  body: await response.text(),
  signed: Object.fromEntries(signed.headers),
}));
