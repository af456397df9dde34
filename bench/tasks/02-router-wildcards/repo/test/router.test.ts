import { test } from "node:test";
import assert from "node:assert/strict";
import { Router } from "../src/router";

test("static segments and parameters match, with parameters decoded", () => {
  const router = new Router<string>().add("GET", "/users/:id", "user").add("GET", "/health", "health");
  assert.deepEqual(router.match("GET", "/users/a%20b"), { handler: "user", params: { id: "a b" } });
  assert.deepEqual(router.match("get", "/health/?verbose=1"), { handler: "health", params: {} });
  assert.equal(router.match("POST", "/health"), null);
  assert.equal(router.match("GET", "/users"), null);
});

test("a catch-all matches the rest of the path", () => {
  const router = new Router<string>().add("GET", "/files/*path", "files");
  assert.deepEqual(router.match("GET", "/files/docs/2024/report.pdf"),
    { handler: "files", params: { path: "docs/2024/report.pdf" } });
  assert.deepEqual(router.match("GET", "/files/readme"), { handler: "files", params: { path: "readme" } });
});

test("a static segment wins over a parameter added before it", () => {
  const router = new Router<string>().add("GET", "/users/:id", "user").add("GET", "/users/me", "me");
  assert.deepEqual(router.match("GET", "/users/me"), { handler: "me", params: {} });
  assert.deepEqual(router.match("GET", "/users/42"), { handler: "user", params: { id: "42" } });
});
