// Held-out validation for task 02: never shown to the agent.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Router } from "../src/router";

test("a catch-all needs at least one segment", () => {
  const router = new Router<string>().add("GET", "/files/*path", "files");
  assert.equal(router.match("GET", "/files"), null);
  assert.equal(router.match("GET", "/files/"), null);
});

test("catch-all segments are decoded one by one and joined with slashes", () => {
  const router = new Router<string>().add("GET", "/files/*path", "files");
  assert.deepEqual(router.match("GET", "//files/a%20b//c%2Fd/?x=1#top"),
    { handler: "files", params: { path: "a b/c/d" } });
  assert.equal(router.match("GET", "/files/ok/%E0%A4%A"), null);
});

test("a catch-all that is not the last segment is rejected", () => {
  assert.throws(() => new Router<string>().add("GET", "/files/*path/edit", "x"));
  assert.throws(() => new Router<string>().add("GET", "/*a/*b", "x"));
});

test("catch-all names follow the parameter rules", () => {
  assert.throws(() => new Router<string>().add("GET", "/files/*", "x"));
  assert.throws(() => new Router<string>().add("GET", "/files/*1abc", "x"));
  assert.throws(() => new Router<string>().add("GET", "/:path/*path", "x"));
});

test("a parameter wins over a catch-all added before it, and the catch-all takes the rest", () => {
  const router = new Router<string>()
    .add("GET", "/files/*path", "tree")
    .add("GET", "/files/:id/edit", "edit");
  assert.deepEqual(router.match("GET", "/files/7/edit"), { handler: "edit", params: { id: "7" } });
  assert.deepEqual(router.match("GET", "/files/7/view"), { handler: "tree", params: { path: "7/view" } });
  assert.deepEqual(router.match("GET", "/files/7"), { handler: "tree", params: { path: "7" } });
});

test("specificity is decided at the leftmost segment that differs in kind", () => {
  const router = new Router<string>()
    .add("GET", "/:org/repos/settings", "org-settings")
    .add("GET", "/acme/:repo/:page", "acme-page");
  // Two static segments against one, but the leftmost difference is static "acme" against ":org".
  assert.deepEqual(router.match("GET", "/acme/repos/settings"),
    { handler: "acme-page", params: { repo: "repos", page: "settings" } });
  assert.deepEqual(router.match("GET", "/other/repos/settings"),
    { handler: "org-settings", params: { org: "other" } });
});

test("neither the longer pattern nor the longer static prefix wins: kinds from the left decide", () => {
  for (const reversed of [false, true]) {
    const adds: [string, string][] = [["/:x/b/c", "longer"], ["/a/*rest", "static-first"]];
    const router = new Router<string>();
    for (const [pattern, name] of reversed ? adds.reverse() : adds) router.add("GET", pattern, name);
    // ":x" against the static "a" at the first segment: the shorter catch-all route is more specific.
    assert.equal(router.match("GET", "/a/b/c")?.handler, "static-first", `reversed: ${reversed}`);
  }
  for (const reversed of [false, true]) {
    const adds: [string, string][] = [["/a/:y/:z", "params"], ["/a/:x/c", "static-third"]];
    const router = new Router<string>();
    for (const [pattern, name] of reversed ? adds.reverse() : adds) router.add("GET", pattern, name);
    // Same static prefix ("a"), same kinds at the second segment; the third decides.
    assert.deepEqual(router.match("GET", "/a/q/c"), { handler: "static-third", params: { x: "q" } }, `reversed: ${reversed}`);
  }
});

test("when the preferred route fails further on, a less specific one is tried", () => {
  const router = new Router<string>()
    .add("GET", "/:a/b/c", "param-first")
    .add("GET", "/x/:b/d", "static-first");
  assert.deepEqual(router.match("GET", "/x/b/c"), { handler: "param-first", params: { a: "x" } });
  assert.deepEqual(router.match("GET", "/x/b/d"), { handler: "static-first", params: { b: "b" } });
});

test("a static route beats both a parameter and a catch-all, in any order of adding", () => {
  const orders = [
    ["*rest", ":id", "new"],
    [":id", "new", "*rest"],
    ["new", "*rest", ":id"],
  ];
  for (const order of orders) {
    const router = new Router<string>();
    for (const last of order) router.add("GET", `/posts/${last}`, last);
    assert.equal(router.match("GET", "/posts/new")?.handler, "new", order.join(","));
    assert.equal(router.match("GET", "/posts/17")?.handler, ":id", order.join(","));
    assert.equal(router.match("GET", "/posts/17/comments")?.handler, "*rest", order.join(","));
  }
});

test("routes of identical shape keep first-added-wins", () => {
  const router = new Router<string>().add("GET", "/u/:id", "first").add("GET", "/u/:name", "second");
  assert.deepEqual(router.match("GET", "/u/5"), { handler: "first", params: { id: "5" } });
});

test("methods stay separate", () => {
  const router = new Router<string>()
    .add("GET", "/items/*rest", "get-any")
    .add("post", "/items/:id", "post-one");
  assert.equal(router.match("GET", "/items/3")?.handler, "get-any");
  assert.equal(router.match("POST", "/items/3")?.handler, "post-one");
  assert.equal(router.match("POST", "/items/3/4"), null);
  assert.equal(router.match("DELETE", "/items/3"), null);
});

test("existing behaviour: bad percent-encoding, duplicate names, root path", () => {
  const router = new Router<string>().add("GET", "/", "root").add("GET", "/p/:id", "p");
  assert.deepEqual(router.match("GET", ""), { handler: "root", params: {} });
  assert.deepEqual(router.match("GET", "/?q"), { handler: "root", params: {} });
  assert.equal(router.match("GET", "/p/%zz"), null);
  assert.throws(() => router.add("GET", "/:id/:id", "dup"));
});
