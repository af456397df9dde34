// A pass-through HTTP proxy in front of hearth that records each exchange (method, path, the request's
// max_tokens, the response's status and x-should-retry), so a test can see what a real client sent and
// how often: retries, and a request sent again with other settings.
import http from "node:http";
import { once } from "node:events";

export async function startRecordingProxy(targetUrl) {
  const target = new URL(targetUrl);
  const exchanges = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      let maxTokens = null;
      try {
        maxTokens = JSON.parse(body.toString("utf8")).max_tokens ?? null;
      } catch {
        // not JSON
      }
      const exchange = { method: req.method, path: req.url, maxTokens, status: 0, shouldRetry: null };
      exchanges.push(exchange);
      const upstream = http.request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (up) => {
          exchange.status = up.statusCode;
          exchange.shouldRetry = up.headers["x-should-retry"] ?? null;
          res.writeHead(up.statusCode, up.headers);
          up.pipe(res);
        },
      );
      upstream.on("error", () => res.destroy());
      upstream.end(body);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    exchanges,
    messages: () => exchanges.filter((e) => e.method === "POST" && e.path.startsWith("/v1/messages") && !e.path.includes("count_tokens")),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
