// A raw HTTP/1.1 client over node:net for requests no well-behaved client would send: malformed
// request lines and framing, invalid bytes, trickled ("slow-loris") headers and bodies.
import net from "node:net";

// Parses one response (status, headers, body by Content-Length) out of `buffer`, or null if incomplete.
function parseResponse(buffer, { headRequest = false } = {}) {
  const end = buffer.indexOf("\r\n\r\n");
  if (end < 0) return null;
  const head = buffer.subarray(0, end).toString("latin1");
  const [statusLine, ...headerLines] = head.split("\r\n");
  const status = Number(statusLine.split(" ")[1]);
  const headers = {};
  for (const line of headerLines) {
    const i = line.indexOf(":");
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const length = headRequest ? 0 : Number(headers["content-length"] ?? 0);  // a HEAD answer has no body
  if (buffer.length < end + 4 + length) return null;
  const text = buffer.subarray(end + 4, end + 4 + length).toString("utf8");
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status, headers, text, json };
}

// Sends `pieces` (Buffers or strings), waiting `gapMs` between them, and resolves with the first
// response, or with {status: 0, closed: true} if the server closed the connection without one.
export function rawRequest(port, pieces, { gapMs = 0, timeoutMs = 20000, head = false } = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let buffer = Buffer.alloc(0);
    let settled = false;
    const started = Date.now();
    const finish = (value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...value, elapsedMs: Date.now() - started });
    };
    const timer = setTimeout(() => {
      if (!settled) {
        settled = true;
        socket.destroy();
        reject(new Error(`no response and no close within ${timeoutMs} ms`));
      }
    }, timeoutMs);
    socket.on("data", (d) => {
      buffer = Buffer.concat([buffer, d]);
      const response = parseResponse(buffer, { headRequest: head });
      if (response) finish(response);
    });
    socket.on("close", () => finish({ status: 0, closed: true, text: buffer.toString("latin1") }));
    socket.on("error", () => finish({ status: 0, closed: true, text: buffer.toString("latin1") }));
    socket.on("connect", async () => {
      for (const piece of pieces) {
        if (settled || socket.destroyed) return;
        socket.write(piece);
        if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
      }
    });
  });
}

// A POST with a JSON (or raw) body and correct framing.
export function rawPost(port, path, body, headers = {}) {
  const payload = Buffer.isBuffer(body) ? body : Buffer.from(body, "utf8");
  const lines = [`POST ${path} HTTP/1.1`, "Host: 127.0.0.1", `Content-Length: ${payload.length}`,
    "Content-Type: application/json", "Connection: close"];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  return rawRequest(port, [Buffer.concat([Buffer.from(lines.join("\r\n") + "\r\n\r\n", "latin1"), payload])]);
}
